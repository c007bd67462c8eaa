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
    read_csv,
    snakemake,
    write_config,
    write_csv,
)

from merlib.tables import FEATURE_FLAGS, TRANSCRIPTS, read_features, read_table

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
    overlay = write_config(tmp_path_factory.mktemp("config") / "c.yaml", release, shards=1)
    workdir = tmp_path_factory.mktemp("asr")
    targets = ["results/transcripts/000.parquet", "results/features/use_m3/000.parquet"]
    proc = snakemake(workdir, *config_args(overlay), *LOCAL, *targets)
    assert proc.returncode == 0, failed(proc)
    unlabelled = {r["name"] for r in read_csv(release / "test-labels.csv")}
    return workdir, labelled, unlabelled


def test_unlabelled_clips_are_transcribed_by_asr_and_labelled_keep_the_release(asr_run):
    workdir, labelled, unlabelled = asr_run
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
    workdir, _, unlabelled = asr_run
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
