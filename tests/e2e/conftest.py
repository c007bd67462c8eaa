"""Session fixtures for the scale-out e2e tests: one small release cut from the demo corpus
and one uninterrupted local run of it, which the SLURM, rerun and crash tests compare to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from e2e_helpers import config_args, demo_corpus, failed, make_release, snakemake, write_config

# Small enough for CI, large enough for 3-fold stratified cross validation.
PER_CLASS = 4
UNLABELLED = 8


@pytest.fixture(scope="session")
def built_demo_corpus(tmp_path_factory) -> Path:
    """The demo corpus, built once per session when no built one is found."""
    return demo_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def small_release(built_demo_corpus, tmp_path_factory) -> Path:
    release = tmp_path_factory.mktemp("release")
    return make_release(built_demo_corpus, release, PER_CLASS, UNLABELLED)


@pytest.fixture(scope="session")
def release_config(small_release, tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("config") / "release.yaml", small_release)


@pytest.fixture(scope="session")
def reference_run(release_config, tmp_path_factory) -> Path:
    """The small release run locally, uninterrupted: what every other run must equal."""
    workdir = tmp_path_factory.mktemp("reference")
    proc = snakemake(
        workdir, *config_args(release_config), "--workflow-profile", "none", "--cores", "2"
    )
    assert proc.returncode == 0, failed(proc)
    return workdir


def copy_run(src: Path, dest: Path) -> Path:
    """A copy of a finished run (outputs, logs and Snakemake's metadata, mtimes kept)."""
    shutil.copytree(src, dest, symlinks=True)
    return dest
