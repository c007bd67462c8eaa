"""End to end: a release like MER2024's, whose unlabelled clips come with no text, gets a
transcript for every clip (ASR with the embedded Whisper-base), and text features read it."""

from __future__ import annotations

import pyarrow as pa
import pytest
from e2e_helpers import (
    REPO,
    config_args,
    failed,
    make_release,
    planned_jobs,
    read_csv,
    snakemake,
    write_config,
    write_csv,
)

from merlib.schemas import FEATURE_FLAGS, TRANSCRIPTS, read_features, read_table

pytestmark = pytest.mark.e2e
LOCAL = ("--workflow-profile", "none", "--cores", "2")


@pytest.fixture(scope="module")
def asr_run(built_demo_corpus, tmp_path_factory):
    """A handful of clips (one per class, three unlabelled), one shard; the release's
    transcriptions cover the labelled clips only, as in MER2024."""
    release = make_release(built_demo_corpus, tmp_path_factory.mktemp("release"), 1, 3)
    labelled = {r["name"] for r in read_csv(release / "label-disdim.csv")}
    rows = [r for r in read_csv(release / "label-transcription.csv") if r["name"] in labelled]
    write_csv(
        release / "label-transcription.csv",
        ["name", "chinese"],
        [[r["name"], r["chinese"]] for r in rows],
    )
    overlay = write_config(tmp_path_factory.mktemp("config") / "c.yaml", release, "transcripts")
    workdir = tmp_path_factory.mktemp("asr")
    proc = snakemake(workdir, *config_args(overlay), *LOCAL, *TARGETS)
    assert proc.returncode == 0, failed(proc)
    unlabelled = {r["name"] for r in read_csv(release / "test-labels.csv")}
    return workdir, labelled, unlabelled, release, overlay


TARGETS = (
    "results/transcripts/000.parquet",
    "results/features/use_m3/000.parquet",
    "results/features/egemaps/000.parquet",
)


def planned(workdir, overlay):
    """(rule, wildcards) of every job a dry run of TARGETS plans."""
    return planned_jobs(snakemake(workdir, *config_args(overlay), *LOCAL, "-n", *TARGETS))


def rerun_ingest(workdir, overlay):
    proc = snakemake(workdir, *config_args(overlay), *LOCAL, "results/ingest/manifest.parquet")
    assert proc.returncode == 0, failed(proc)


def test_unlabelled_clips_are_transcribed_by_asr_and_labelled_keep_the_release(asr_run):
    workdir, labelled, unlabelled, *_ = asr_run
    table = read_table(workdir / "results" / "transcripts" / "000.parquet", TRANSCRIPTS)
    rows = {r["name"]: r for r in table.to_pylist()}
    assert set(rows) == labelled | unlabelled
    assert {rows[n]["source"] for n in labelled} == {"release"}
    for name in unlabelled:
        row = rows[name]
        assert row["model"] == "base" and row["language"] == "zh"
        # espeak's Mandarin is hard for Whisper-base, but it hears speech in it
        assert row["source"] == "asr" and row["text"], row
        assert row["avg_logprob"] < 0


def test_text_feature_of_an_asr_transcript_is_not_the_empty_zero_vector(asr_run):
    workdir, _, unlabelled, *_ = asr_run
    features = read_features(workdir / "results" / "features" / "use_m3" / "000.parquet")
    flags = read_table(workdir / "results" / "feature_flags" / "use_m3" / "000.parquet",
                       FEATURE_FLAGS)  # fmt: skip
    assert not set(flags.column("name").to_pylist()) & unlabelled
    vectors = dict(zip(features.column("name").to_pylist(),
                       features.column("embedding").to_pylist(), strict=True))  # fmt: skip
    for name in unlabelled:
        assert any(abs(v) > 0 for v in vectors[name])
    assert isinstance(features, pa.Table)


def test_asr_model_path_that_does_not_exist_fails_before_any_job(tmp_path):
    args = ("--configfile", str(REPO / "config.yaml"), "-n")
    proc = snakemake(tmp_path, *args, "--config", "transcripts={model: ./no/such/model}")
    assert proc.returncode != 0
    assert "transcripts.model './no/such/model' does not exist" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_label_change_reruns_ingest_but_no_media_transcription_or_feature_job(asr_run):
    workdir, _, _, release, overlay = asr_run
    assert planned(workdir, overlay) == []
    rows = read_csv(release / "label-disdim.csv")
    rows[0]["discrete"] = "neutral" if rows[0]["discrete"] != "neutral" else "sad"
    write_csv(release / "label-disdim.csv", ["name", "discrete"],
              [[r["name"], r["discrete"]] for r in rows])  # fmt: skip
    # before ingest reruns, the dry run cannot know (ingest_release is a checkpoint)
    assert ("ingest_release", "") in planned(workdir, overlay)
    rerun_ingest(workdir, overlay)
    assert planned(workdir, overlay) == []


def test_transcription_change_reruns_that_shards_transcripts_and_text_features_only(asr_run):
    workdir, labelled, _, release, overlay = asr_run
    rows = read_csv(release / "label-transcription.csv")
    rows[0]["chinese"] = rows[0]["chinese"] + "真的。"
    write_csv(release / "label-transcription.csv", ["name", "chinese"],
              [[r["name"], r["chinese"]] for r in rows])  # fmt: skip
    rerun_ingest(workdir, overlay)
    assert planned(workdir, overlay) == [
        ("extract_features", "feature=use_m3, shard=000"),
        ("transcribe_clips", "shard=000"),
    ]
