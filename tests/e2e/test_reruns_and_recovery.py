"""Partial reruns and crash recovery, against one uninterrupted local run of a small release.

- `--forcerun <rule>` reruns that rule and what depends on it, nothing upstream;
- `--forcerun <one shard's file>` reruns that shard's branch only;
- a changed parameter of one stage reruns that stage and what is downstream of it;
- a run killed with SIGKILL in the middle of a stage (feature extraction, one of eight jobs
  done) leaves no output taken as complete, and `--rerun-incomplete` then gives outputs
  equal to the uninterrupted run.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from e2e_helpers import (
    REPO,
    SNAKEMAKE,
    TRAINING_AND_EVALUATION,
    assert_runs_equal,
    config_args,
    copy_run,
    failed,
    snakemake,
)
from e2e_helpers import planned_jobs as dry_run_jobs

pytestmark = pytest.mark.e2e

LOCAL = ("--workflow-profile", "none", "--cores", "2")
DOWNSTREAM_OF_FUSION = TRAINING_AND_EVALUATION
# the paper tables are opt-in (tables.enabled: false): `all` never plans them
TABLES = {"tabulate_unimodal", "tabulate_multimodal"}
FEATURE_DONE = re.compile(r"Finished jobid: \d+ \(Rule: extract_features\)")


def planned_jobs(workdir: Path, *args: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would run, the target rule aside."""
    return dry_run_jobs(snakemake(workdir, "-n", *LOCAL, *args))


def rules_of(jobs: list[tuple[str, str]]) -> set[str]:
    return {rule for rule, _ in jobs}


def test_rerun_of_a_finished_run_plans_nothing(reference_run, release_config):
    assert planned_jobs(reference_run, *config_args(release_config)) == []


def test_forcerun_rule_reruns_it_and_only_what_depends_on_it(reference_run, release_config):
    jobs = planned_jobs(reference_run, *config_args(release_config), "--forcerun", "train_fusion")
    assert rules_of(jobs) == DOWNSTREAM_OF_FUSION
    jobs = planned_jobs(reference_run, *config_args(release_config), "--forcerun", "extract_media")
    assert ("extract_media", "shard=000") in jobs and ("extract_media", "shard=001") in jobs
    assert "ingest_release" not in rules_of(jobs)


def test_forcerun_one_shard_file_reruns_that_shards_branch_only(reference_run, release_config):
    jobs = planned_jobs(
        reference_run,
        *config_args(release_config),
        "--forcerun",
        "results/media/001/audio.parquet",
    )
    per_shard = [(rule, wc) for rule, wc in jobs if wc]
    assert ("extract_media", "shard=001") in per_shard
    assert {wc.split("shard=")[1] for _, wc in per_shard} == {"001"}
    assert sorted(wc for rule, wc in per_shard if rule == "extract_features") == [
        f"feature={f}, shard=001"
        for f in ("egemaps", "fer", "use_m3")  # only fused ones
    ]
    assert ("transcribe_clips", "shard=001") in per_shard  # ASR reads the shard's audio
    per_shard_rules = {"extract_media", "extract_features", "transcribe_clips"}
    assert rules_of(jobs) - per_shard_rules == DOWNSTREAM_OF_FUSION
    assert not rules_of(jobs) & TABLES


@pytest.mark.parametrize(
    ("change", "first_stage"),
    [
        ({"fusion": {"epochs": 7}}, {"train_fusion"}),
        ({"media": {"face_fps": 2}}, {"extract_media", "extract_features", "transcribe_clips"}),
    ],
    ids=["fusion.epochs", "media.face_fps"],
)
def test_changed_parameter_reruns_its_stage_and_downstream_only(
    reference_run, release_config, tmp_path, change, first_stage
):
    overlay = tmp_path / "change.yaml"
    overlay.write_text(yaml.safe_dump(change))
    jobs = planned_jobs(reference_run, *config_args(release_config), str(overlay))
    assert rules_of(jobs) == first_stage | DOWNSTREAM_OF_FUSION  # no check_asr: same audio
    assert "ingest_release" not in rules_of(jobs)


def test_changed_asr_check_reruns_the_check_and_the_summary_only(
    reference_run, release_config, tmp_path
):
    overlay = tmp_path / "change.yaml"
    overlay.write_text(yaml.safe_dump({"transcripts": {"asr_check": 3}}))
    jobs = planned_jobs(reference_run, *config_args(release_config), str(overlay))
    assert rules_of(jobs) == {
        "check_asr",
        "evaluate_predictions",
        "render_report_summary",
        "render_report_tables",
    }


@pytest.fixture(scope="module")
def killed_run(reference_run, release_config, tmp_path_factory):
    """A copy of the reference run, forced to recompute every feature, SIGKILLed (snakemake
    and its jobs) once the first of the eight feature jobs has finished and the second one's
    script is running."""
    workdir = copy_run(reference_run, tmp_path_factory.mktemp("crash") / "run")
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    cmd += [*config_args(release_config), *LOCAL, "--forcerun", "extract_features"]
    log = workdir / "killed-run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    started = time.time()
    deadline = time.monotonic() + 600
    try:
        # A feature script truncates its log as it starts: two fresh logs and one job done
        # means the second job is in its script.
        while not (FEATURE_DONE.search(log.read_text()) and len(fresh_logs(workdir, started)) >= 2):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no second feature job started in 600 s"
            time.sleep(0.1)
        time.sleep(1)
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    return workdir


def test_killed_run_leaves_no_parquet_file_that_does_not_read(killed_run):
    files = list((killed_run / "results").rglob("*.parquet"))
    assert files
    for path in files:
        pq.read_table(path)  # raises on a truncated or half-written file


def fresh_logs(workdir: Path, since: float) -> list[Path]:
    logs = (workdir / "logs" / "extract_features").glob("*/*.log")
    return [p for p in logs if p.stat().st_mtime > since]


def incomplete_outputs(workdir: Path) -> list[str]:
    """Outputs Snakemake marked incomplete (a job started and did not finish)."""
    marks = (workdir / ".snakemake" / "incomplete").iterdir()
    return sorted(base64.urlsafe_b64decode(p.name).decode() for p in marks)


def test_killed_run_outputs_are_marked_incomplete_and_planned_again(killed_run, release_config):
    marked = incomplete_outputs(killed_run)
    assert marked and all(
        m.startswith(("results/features/", "results/feature_rejects/", "results/feature_flags/"))
        for m in marked
    )
    # no --rerun-incomplete: Snakemake itself will not take these outputs as done. Either
    # it plans their jobs again (the kill removed or left them missing), or, when the
    # killed job had already written them (its script ended in the second before the
    # kill), it refuses to run at all and names exactly those files.
    proc = snakemake(killed_run, "-n", *LOCAL, *config_args(release_config))
    if proc.returncode != 0:
        out = proc.stdout + proc.stderr
        assert "IncompleteFilesException" in out, failed(proc)
        listed = [w for w in out.split("Incomplete files:")[1].split() if w.startswith("results/")]
        assert sorted(listed) == marked, (listed, marked)
        return
    jobs = planned_jobs(killed_run, *config_args(release_config))
    for path in marked:
        feature, shard = re.fullmatch(r"results/\w+/(\w+)/(\d+)\.parquet", path).groups()
        assert ("extract_features", f"feature={feature}, shard={shard}") in jobs, (path, jobs)


def test_rerun_incomplete_after_sigkill_equals_the_uninterrupted_run(
    killed_run, release_config, reference_run
):
    # snakemake was killed too: its lock on the folder is stale
    proc = snakemake(killed_run, *config_args(release_config), *LOCAL, "--unlock")
    assert proc.returncode == 0, failed(proc)
    proc = snakemake(killed_run, *config_args(release_config), *LOCAL, "--rerun-incomplete")
    assert proc.returncode == 0, failed(proc)
    assert "extract_features" in proc.stdout + proc.stderr
    assert incomplete_outputs(killed_run) == []
    assert_runs_equal(killed_run, reference_run)


def test_forcerun_one_shard_reruns_only_its_files_and_outputs_stay_equal(
    killed_run, release_config, reference_run
):
    """Runs after the recovery test, on the same (recovered) copy."""
    results = killed_run / "results"
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*.parquet")}
    proc = snakemake(
        killed_run,
        *config_args(release_config),
        *LOCAL,
        "--forcerun",
        "results/media/001/audio.parquet",
    )
    assert proc.returncode == 0, failed(proc)
    changed = {
        p.relative_to(results).as_posix() for p, t in before.items() if p.stat().st_mtime_ns != t
    }
    shard_files = {c for c in changed if "/00" in c}
    assert shard_files and all("001" in c for c in shard_files), changed
    assert not any("000" in c for c in changed)
    assert "ingest/manifest.parquet" not in changed
    assert_runs_equal(killed_run, reference_run)
