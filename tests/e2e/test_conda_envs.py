"""End to end under ``snakemake --use-conda``: every rule's script runs with the Python of its
own ``envs/*.yaml`` and nothing else.

Snakemake drives the test suite's ``conda`` (tests/conda: each env a virtualenv of exactly
its file's pip list, built by uv into a shared cache), runs the post-deploy scripts, and
activates each job's env. The guard loaded in every env fails an import that the env
cannot satisfy (naming rule, env file and module) and records which rule ran with which
Python; the test checks that record against the rules' ``conda:`` lines, so that a run
that silently used Snakemake's own Python cannot pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from e2e_helpers import ENV_CACHE, USE_CONDA, conda_shim_environment, guard_records
from env_imports import env_packages, normalize, rule_envs

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CACHE = ENV_CACHE
TIMEOUT = 2400  # a cold cache builds nine envs first
MUSAN = REPO.parent / "shared" / "data" / "audio" / "librispeech"
# The noise test's small corpus (tests/e2e/test_noise_workflow.py), with one raw episode
# for the collect stage and a two-combination search: every stage of the default run,
# MER-NOISE and collection, on few clips.
OVERLAY = {
    "shards": 2,
    "demo": {"clips_per_class": 4, "unlabelled_clips": 12, "episodes": 1},
    "media": {"face_fps": 1},
    "fusion": {"epochs": 20, "folds": 3},
    "search": {"n_combinations": 2},
    "noise": {"musan_dir": str(MUSAN), "augment_training": False},
    "transcripts": {"asr_check": 6},
}

pytestmark = pytest.mark.e2e


def snakemake_conda(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    cmd += ["--profile", str(REPO / "profiles" / "default"), "--cores", "2"]
    cmd += [*USE_CONDA, *args]
    env = conda_shim_environment(workdir / "guard.jsonl")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def failed(proc: subprocess.CompletedProcess) -> str:
    guard = re.findall(r"^merflow env guard: .*$", proc.stdout + proc.stderr, re.M)
    return (
        "\n".join(guard) + f"\nrc={proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    )


def jobs_run(proc: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):$", proc.stdout + proc.stderr, re.M)


@pytest.fixture(scope="module")
def conda_run(tmp_path_factory):
    if not MUSAN.is_dir():
        pytest.skip(f"real speech for the noise corpus not found at {MUSAN}")
    workdir = tmp_path_factory.mktemp("conda")
    overlay = workdir / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY))
    configs = ["--configfile", str(REPO / "config.yaml"), str(overlay)]
    start = time.monotonic()
    main = snakemake_conda(workdir, *configs)
    assert main.returncode == 0, failed(main)
    seconds = time.monotonic() - start
    # collection needs the demo's raw episode as its videos folder: a second run
    collect = dict(OVERLAY, collect={"videos_dir": str(workdir / "resources/demo/raw-episodes")})
    overlay.write_text(yaml.safe_dump(collect))
    second = snakemake_conda(workdir, *configs, "--", "results/collect/clips.parquet")
    assert second.returncode == 0, failed(second)
    print(f"--use-conda demo run: {seconds:.0f} s (env builds included where the cache was cold)")
    return workdir, jobs_run(main) + jobs_run(second)


def test_every_job_script_ran_with_the_python_of_its_rules_env(conda_run):
    workdir, jobs = conda_run
    records = guard_records(workdir / "guard.jsonl")
    scripted = [j for j in jobs if j not in ("all",)]
    assert scripted, "no job ran"
    assert sorted(r["rule"] for r in records) == sorted(scripted)
    envs = rule_envs()
    for record in records:
        assert record["env_file"] == f"envs/{envs[record['rule']][1]}", record
        # the env's own interpreter (a venv's bin/python links to the base one: its path,
        # not its target, and the interpreter's prefix, are the env's)
        assert Path(record["executable"]).is_relative_to(Path(record["prefix"])), record
        assert record["sys_prefix"] == record["prefix"], record
        assert Path(record["prefix"]).is_relative_to(CACHE / "conda")


def test_the_run_covers_every_env_and_the_stages_of_the_default_run(conda_run):
    workdir, jobs = conda_run
    used = {r["env_file"] for r in guard_records(workdir / "guard.jsonl")}
    assert used == {f"envs/{p.name}" for p in (REPO / "envs").glob("*.yaml")}
    assert {"make_demo_corpus", "ingest_release", "extract_media", "transcribe_clips",
            "train_fusion", "evaluate_predictions", "account_clips", "inject_noise",
            "collect_noise_table", "evaluate_robustness", "cut_segments"} <= set(jobs)  # fmt: skip


def built_envs() -> dict[str, Path]:
    """envs/<name>.yaml -> its prefix under the cache, found by the copy Snakemake keeps."""
    texts = {p.read_text(): p.name for p in (REPO / "envs").glob("*.yaml")}
    found = {}
    for copy in (CACHE / "conda").glob("*_.yaml"):
        name = texts.get(copy.read_text())
        prefix = copy.with_suffix("")
        if name and (prefix / "merflow-env.json").is_file():
            found[name] = prefix
    return found


@pytest.mark.parametrize("env", sorted(p.name for p in (REPO / "envs").glob("*.yaml")))
def test_each_env_holds_exactly_its_files_packages_and_post_deploy(conda_run, env):
    prefix = built_envs()[env]
    listed = subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {normalize(p["name"]): p["version"] for p in json.loads(listed)}
    for name, version in env_packages(env).items():  # the post-deploy scripts' too
        assert installed.get(name, "").split("+")[0] == version, (env, name, installed.get(name))
    # nothing of another env that its own packages do not pull in
    others = {n for p in (REPO / "envs").glob("*.yaml") for n in env_packages(p.name)}
    stray = (others - set(env_packages(env))) & set(installed)
    pulled = subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "pip", "show", *sorted(stray)],
        capture_output=True,
        text=True,
    ).stdout
    required_by = {}
    for block in pulled.split("\n---\n"):
        fields = dict(re.findall(r"^([\w-]+): ?(.*)$", block, re.M))
        required_by[normalize(fields.get("Name", ""))] = fields.get("Required-by", "")
    for name in stray:  # allowed only as a dependency of something the file asks for
        assert required_by.get(name), f"{env}: {name} is installed, not declared nor required"


def test_features_env_has_the_cpu_torch_build_here(conda_run):
    python = built_envs()["features.yaml"] / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["2.13.0+cpu", "None"]


def test_a_module_missing_from_an_env_fails_its_rule_naming_rule_env_and_module(
    tmp_path, shared_data
):
    """A copy of the workflow whose ingest env lacks pyarrow: Snakemake's own installation
    has pyarrow, so without the guard the rule would silently import it from there."""
    copy = tmp_path / "merflow"
    copy.mkdir()
    for part in ("Snakefile", "config.yaml", "rules", "envs", "schemas", "workflow_scripts",
                 "report", "profiles"):  # fmt: skip
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, copy / part)
    env = copy / "envs" / "ingest.yaml"
    env.write_text(env.read_text().replace("pyarrow==26.0.1", "numpy==2.4.6"))  # pip list kept
    assert "pyarrow" not in env.read_text()
    corpus = tmp_path / "release"  # the smallest release the release check lets through
    clip = shared_data / "video" / "grid-cuts" / "grid_4speakers_cuts.mp4"
    for folder in ("video-labeled", "video-unlabeled-with-test2noise"):
        (corpus / folder).mkdir(parents=True)
        shutil.copy(clip, corpus / folder / "clip.mp4")
    (corpus / "label-disdim.csv").write_text("name,discrete\nclip,neutral\n")
    (corpus / "label-transcription.csv").write_text("name,chinese\n")
    cmd = [SNAKEMAKE, "--snakefile", str(copy / "Snakefile"), "--directory", str(tmp_path)]
    cmd += ["--configfile", str(copy / "config.yaml"), "--config", f"data_root={corpus}"]
    cmd += ["--cores", "1", *USE_CONDA]
    cmd += ["--", "results/ingest/manifest.parquet"]
    env_vars = conda_shim_environment(tmp_path / "guard.jsonl", envs_dir=env.parent)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env_vars)
    assert proc.returncode != 0
    message = (
        "No module named 'pyarrow' in the environment of rule ingest_release: envs/ingest.yaml"
    )
    assert message in proc.stdout + proc.stderr, failed(proc)
    log = (tmp_path / "logs" / "ingest_release" / "ingest_release.log").read_text()
    assert message in proc.stdout + proc.stderr and message in log, failed(proc)


def test_create_envs_only_as_docs_running_md_says_reuses_the_built_envs(conda_run, tmp_path):
    """docs/running.md: `snakemake --use-conda --conda-create-envs-only` (on a login node)."""
    built = {p: p.stat().st_mtime for p in (ENV_CACHE / "conda").glob("*_")}
    proc = snakemake_conda(tmp_path, "--conda-create-envs-only")
    assert proc.returncode == 0, failed(proc)
    assert "Creating conda environment" not in proc.stdout + proc.stderr
    assert {p: p.stat().st_mtime for p in (ENV_CACHE / "conda").glob("*_")} == built
    assert not (tmp_path / "results").exists()  # nothing ran
