"""End to end: unlabelled clips that are mp4 files with no video stream at all (audio
only), as users report among MER2024's ``samplenew3*`` clips. Made here from real Mandarin
read speech (../shared/data/audio/mandarin), one with a release transcription and one
without (ASR gives its text), added to a small release's unlabelled pool and run through
to the submission with MER-NOISE on. Each must be predicted from audio and text with its
visual modality recorded missing, with the reason, never dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import make_audio_only_clip
from e2e_helpers import config_args, failed, make_release, overlay, read_csv, snakemake, write_csv

from merlib.av.decode import decode_audio, has_video_track
from merlib.labels import LABELS
from merlib.schemas import ACCOUNTING, NOISE, NOISE_REJECTS, read_table

pytestmark = pytest.mark.e2e

UNLABELED = "video-unlabeled-with-test2noise"
LOCAL = ("--workflow-profile", "none", "--cores", "2")
PER_CLASS, POOL = 3, 4
MANDARIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "audio" / "mandarin"
MUSAN = MANDARIN.parent / "librispeech"
# clip name -> (recording, whether the release transcribes it)
AUDIO_ONLY = {
    "samplenew3_00000001": ("thchs30_D4_750.wav", False),
    "samplenew3_00000002": ("aishell1_BAC009S0764W0121.wav", True),
}
NO_VIDEO = "no video track (the file holds no video stream, audio only)"


@pytest.fixture(scope="module")
def release(shared_data, built_demo_corpus, tmp_path_factory) -> Path:
    root = make_release(
        built_demo_corpus, tmp_path_factory.mktemp("audio-only") / "release", PER_CLASS, POOL
    )
    reference = {r["name"]: r["text"] for r in read_csv(MANDARIN / "transcripts.csv")}
    texts = [[r["name"], r["chinese"]] for r in read_csv(root / "label-transcription.csv")]
    tests = [[r["name"], r["discrete"]] for r in read_csv(root / "test-labels.csv")]
    for name, (recording, transcribed) in AUDIO_ONLY.items():
        clip = make_audio_only_clip(root / UNLABELED / f"{name}.mp4", MANDARIN / recording)
        assert not has_video_track(clip)
        if transcribed:
            texts.append([name, reference[recording]])
        tests.append([name, "neutral"])  # read speech: neutral, so that it is scored
    write_csv(root / "label-transcription.csv", ["name", "chinese"], texts)
    write_csv(root / "test-labels.csv", ["name", "discrete"], tests)
    return root


@pytest.fixture(scope="module")
def run(release, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("audio-only-run")
    evaluate = {"test_labels": str(release / "test-labels.csv")}
    config = overlay(
        "audio-only",
        workdir / "audio-only.yaml",
        data_root=str(release),
        evaluate=evaluate,
        noise={"musan_dir": str(MUSAN)},
    )
    proc = snakemake(workdir, *config_args(config), *LOCAL)
    assert proc.returncode == 0, failed(proc)
    return workdir


def rows(path: Path, name: str) -> list[dict]:
    return [r for r in pq.read_table(path).to_pylist() if r["name"] == name]


@pytest.mark.parametrize("name", sorted(AUDIO_ONLY))
def test_audio_only_clip_is_in_the_submission_with_a_label(run, name):
    submission = {r["name"]: r for r in read_csv(run / "results/submission/mer2024-semi-noise.csv")}
    assert name in submission
    assert submission[name]["discrete"] in LABELS


@pytest.mark.parametrize("name", sorted(AUDIO_ONLY))
def test_audio_only_clip_is_predicted_with_its_visual_modality_missing_and_why(run, name):
    table = read_table(run / "results/metrics/accounting.parquet", ACCOUNTING)
    [row] = [r for r in table.to_pylist() if r["name"] == name]
    assert row["split"] == "unlabeled" and row["status"] == "predicted", row
    assert f"{name}.mp4: {NO_VIDEO}" in row["detail"], row
    assert "media (audio)" not in row["detail"], row
    transcribed = AUDIO_ONLY[name][1]
    assert row["text_source"] == ("release" if transcribed else "asr"), row
    media = [r for f in sorted(run.glob("results/media/*/rejects.parquet")) for r in rows(f, name)]
    assert [(r["modality"], r["reason"].endswith(NO_VIDEO)) for r in media] == [("visual", True)]


@pytest.mark.parametrize("name", sorted(AUDIO_ONLY))
def test_audio_only_clip_has_audio_and_text_features_and_no_visual_one(run, name):
    modality = {"egemaps": "audio", "fer": "visual", "use_m3": "text"}
    for feature, kind in modality.items():
        have = [r for f in run.glob(f"results/features/{feature}/*.parquet") for r in rows(f, name)]
        rejected = [
            r
            for f in run.glob(f"results/feature_rejects/{feature}/*.parquet")
            for r in rows(f, name)
        ]
        if kind == "visual":
            assert not have and len(rejected) == 1 and rejected[0]["reason"], (feature, rejected)
        else:
            assert len(have) == 1 and not rejected, (feature, rejected)
    transcripts = [r for f in run.glob("results/transcripts/*.parquet") for r in rows(f, name)]
    assert len(transcripts) == 1 and transcripts[0]["text"].strip(), transcripts


@pytest.mark.parametrize("name", sorted(AUDIO_ONLY))
def test_audio_only_clip_gets_its_noisy_audio_and_a_noisy_prediction(run, name):
    noise = read_table(run / "results/noise/noise.parquet", NOISE).to_pylist()
    rejects = read_table(run / "results/noise/rejects.parquet", NOISE_REJECTS)
    assert name not in rejects.column("name").to_pylist()
    [row] = [r for r in noise if r["name"] == name]
    assert row["n_frames"] == 0 and row["fps"] is None
    noisy_clip = run / row["video"]
    assert not has_video_track(noisy_clip) and decode_audio(noisy_clip).size > 16000
    predicted = rows(run / "results/noise/predictions.parquet", name)
    assert len(predicted) == 1
    summary = json.loads((run / "results/noise/robustness.json").read_text())
    assert summary["all"]["n_clips"] == len(noise) == POOL + len(AUDIO_ONLY)
