"""merflow as a Snakemake module: a workflow of its own, in its own folder, that
``module merflow: snakefile: ...; config: config`` and ``use rule * from merflow as
merflow_*`` (docs/running.md), with a config that overlays merflow's defaults, and
``--use-conda`` as in a standalone run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from e2e_helpers import USE_CONDA, conda_shim_environment, failed, guard_records

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800
CONSUMER = """\
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


module merflow:
    snakefile:
        {snakefile!r}
    config:
        config


use rule * from merflow as merflow_*
"""
# only what differs from merflow's config.yaml
CONFIG = {"shards": 2, "demo": {"clips_per_class": 4, "unlabelled_clips": 12, "episodes": 0}}

pytestmark = pytest.mark.e2e


@pytest.fixture
def consumer(tmp_path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "Snakefile").write_text(CONSUMER.format(snakefile=str(REPO / "Snakefile")))
    return tmp_path


def run(folder: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args],
        cwd=folder,  # the consumer's own working directory
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )


def job_counts(proc: subprocess.CompletedProcess) -> dict[str, int]:
    assert proc.returncode == 0, failed(proc)
    return {m[0]: int(m[1]) for m in re.findall(r"^(merflow_\w+)\s+(\d+)$", proc.stdout, re.M)}


def test_dry_run_plans_merflow_rules_with_the_consumers_config_over_merflows_defaults(consumer):
    counts = job_counts(run(consumer, "--dry-run"))
    assert counts["merflow_all"] == 1  # merflow's default target is the consumer's too
    assert counts["merflow_extract_media"] == 2  # shards: 2, the consumer's
    assert counts["merflow_search_fusion"] == 6  # search.n_combinations: merflow's default
    assert counts["merflow_make_demo_corpus"] == 1


def test_ingest_to_media_runs_with_use_conda_in_the_consumers_folder(consumer):
    env = conda_shim_environment(consumer / "guard.jsonl")
    targets = [f"results/media/{shard}/audio.parquet" for shard in ("0", "1")]
    proc = run(consumer, *USE_CONDA, "--", *targets, env=env)
    assert proc.returncode == 0, failed(proc)
    for shard in ("0", "1"):
        for table in ("audio", "faces", "rejects"):
            assert (consumer / "results" / "media" / shard / f"{table}.parquet").is_file()
    assert (consumer / "results" / "ingest" / "manifest.parquet").is_file()
    ran = {(r["rule"], r["env_file"]) for r in guard_records(consumer / "guard.jsonl")}
    assert ran == {
        ("merflow_make_demo_corpus", "envs/demo.yaml"),
        ("merflow_ingest_release", "envs/ingest.yaml"),
        ("merflow_extract_media", "envs/media.yaml"),
    }
