"""End to end: what a change to the release reruns, and feature jobs over several shards.

One local run of a small release (three shards, release transcripts only), with eGeMAPS
extracted by jobs of two shards (feature_jobs.shards_per_job); the dry-run job lists
after each change say what would rerun:

- a label change in several shards reruns training and evaluation, no per-shard job;
- a new clip reruns its own shard's media, transcripts and features, no other shard's;
  a new clip in a shard of a two-shard eGeMAPS job reruns that job (both its shards);
- the grouped job writes the same per-shard files a per-shard job would.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from e2e_helpers import (
    TRAINING_AND_EVALUATION,
    config_args,
    config_path,
    failed,
    make_release,
    planned_jobs,
    read_csv,
    snakemake,
    write_config,
    write_csv,
)

from merlib.features.extraction import extract_shard
from merlib.schemas import AUDIO, MANIFEST, read_features, read_table
from merlib.shards import shard_of

pytestmark = pytest.mark.e2e
LOCAL = ("--workflow-profile", "none", "--cores", "2")
SHARDS = yaml.safe_load(config_path("feature-jobs").read_text())["shards"]
PER_SHARD = {"extract_media", "transcribe_clips", "extract_features"}


@pytest.fixture(scope="module")
def run(built_demo_corpus, tmp_path_factory):
    release = make_release(built_demo_corpus, tmp_path_factory.mktemp("release"), 3, 4)
    overlay = write_config(tmp_path_factory.mktemp("config") / "c.yaml", release, "feature-jobs")
    workdir = tmp_path_factory.mktemp("jobs")
    proc = snakemake(workdir, *config_args(overlay), *LOCAL)
    assert proc.returncode == 0, failed(proc)
    return workdir, release, overlay


def planned(workdir, overlay):
    """(rule, wildcards) of every job a dry run of `all` plans, `all` aside."""
    return planned_jobs(snakemake(workdir, *config_args(overlay), *LOCAL, "-n"))


def rerun_ingest(workdir, overlay):
    proc = snakemake(workdir, *config_args(overlay), *LOCAL, "results/ingest/manifest.parquet")
    assert proc.returncode == 0, failed(proc)


def shards_of(workdir):
    manifest = read_table(workdir / "results" / "ingest" / "manifest.parquet", MANIFEST)
    return dict(zip(manifest["name"].to_pylist(), manifest["shard"].to_pylist(), strict=True))


def test_grouped_feature_runs_one_job_per_two_shards_and_writes_every_shard_file(run):
    workdir, _, overlay = run
    assert planned(workdir, overlay) == []
    logs = sorted(p.name for p in (workdir / "logs" / "extract_features" / "egemaps").iterdir())
    assert logs == ["000-001.log", "002-002.log"]
    for shard in ("000", "001", "002"):
        for table in ("features", "feature_rejects", "feature_flags"):
            assert (workdir / "results" / table / "egemaps" / f"{shard}.parquet").is_file()
    log = (workdir / "logs" / "extract_features" / "egemaps" / "000-001.log").read_text()
    assert len(re.findall(r"model loaded in", log)) == 1
    assert re.search(r"shard 000, \d+ clips", log) and re.search(r"shard 001, \d+ clips", log)


def test_grouped_job_files_equal_a_per_shard_extraction(run):
    workdir, _, _ = run
    manifest = read_table(workdir / "results" / "ingest" / "manifest.parquet", MANIFEST)
    spec = {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"}
    for shard in ("000", "001"):
        clips = manifest.filter(manifest["shard"].to_numpy(zero_copy_only=False) == shard)
        audio = read_table(workdir / "results" / "media" / shard / "audio.parquet", AUDIO)
        expected, _ = extract_shard("egemaps", spec, clips, audio, None, threads=1)
        got = read_features(workdir / "results" / "features" / "egemaps" / f"{shard}.parquet")
        assert got.column("name").to_pylist() == expected.column("name").to_pylist()
        assert got.column("embedding").to_pylist() == expected.column("embedding").to_pylist()


def test_label_change_in_several_shards_reruns_training_and_evaluation_only(run):
    workdir, release, overlay = run
    shards = shards_of(workdir)
    rows = read_csv(release / "label-disdim.csv")
    changed = {}
    for row in rows:  # one clip per shard, each given another label
        if shards[row["name"]] not in changed:
            changed[shards[row["name"]]] = row["name"]
            row["discrete"] = "neutral" if row["discrete"] != "neutral" else "sad"
    assert len(changed) >= 2, changed
    write_csv(release / "label-disdim.csv", ["name", "discrete"],
              [[r["name"], r["discrete"]] for r in rows])  # fmt: skip
    rerun_ingest(workdir, overlay)
    jobs = planned(workdir, overlay)
    assert {rule for rule, _ in jobs} == TRAINING_AND_EVALUATION, jobs
    assert all(not wildcards for _, wildcards in jobs)


def _add_clip(release, shard: str, seen: set[str]) -> str:
    """Copy an unlabelled video under a new name that hashes into ``shard``."""
    pool = sorted((release / "video-unlabeled-with-test2noise").glob("*.mp4"))
    i = 0
    while shard_of(name := f"sample_new{i:04d}", SHARDS) != shard or name in seen:
        i += 1
    shutil.copy(pool[0], release / "video-unlabeled-with-test2noise" / f"{name}.mp4")
    rows = read_csv(release / "label-transcription.csv")
    text = next(r["chinese"] for r in rows if r["name"] == pool[0].stem)
    write_csv(release / "label-transcription.csv", ["name", "chinese"],
              [[r["name"], r["chinese"]] for r in rows] + [[name, text]])  # fmt: skip
    return name


def test_new_clip_reruns_its_shard_only(run):
    workdir, release, overlay = run
    name = _add_clip(release, "002", set(shards_of(workdir)))
    rerun_ingest(workdir, overlay)
    assert shards_of(workdir)[name] == "002"
    jobs = planned(workdir, overlay)
    per_shard = sorted((rule, wc) for rule, wc in jobs if wc)
    assert per_shard == [
        ("extract_features", "feature=fer, shard=002"),
        ("extract_features", "feature=use_m3, shard=002"),
        ("extract_media", "shard=002"),
        ("transcribe_clips", "shard=002"),
    ]
    rules = {rule for rule, _ in jobs}
    assert rules - PER_SHARD == {"extract_features_egemaps_002_002"} | TRAINING_AND_EVALUATION


def test_new_clip_in_a_grouped_shard_reruns_its_group_job_with_both_shards(run):
    workdir, release, overlay = run
    name = _add_clip(release, "001", set(shards_of(workdir)))
    rerun_ingest(workdir, overlay)
    assert shards_of(workdir)[name] == "001"
    jobs = planned(workdir, overlay)  # (shard 002's jobs of the test above are pending)
    assert "extract_features_egemaps_000_001" in {rule for rule, _ in jobs}
    assert ("extract_media", "shard=001") in jobs
    assert ("extract_features", "feature=fer, shard=001") in jobs
    assert not [wc for _, wc in jobs if "shard=000" in wc]
