"""Any label set through the whole workflow: a tiny release of CREMA-D's six emotions
(../shared/data/video/cremad/: a real actor; disgust and fear are not MER2024 labels),
trained, predicted, self-trained and evaluated with config labels set to them.

The release (built here, see :func:`cremad_release`): actor 1001's six video clips, each
as four labelled copies (the clip re-encoded, mirrored, 10 % faster, and quieter with a
brighter picture: 3-fold CV needs at least three clips per class); the unlabelled pool is
actor 1002's six audio-only recordings (a speaker never trained on), whose emotions are
the test labels. The release has no label-transcription.csv: every clip's text comes
from ASR (Whisper-base, English), as a release without transcriptions runs. The figures
prove that the label set flows through, not accuracy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from e2e_helpers import config_args, failed, overlay, read_csv, snakemake, write_csv

from merlib.av.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.e2e

CREMAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "video" / "cremad"
EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy",
            "NEU": "neutral", "SAD": "sad"}  # fmt: skip
LABELS = list(EMOTIONS.values())
# name suffix -> (video filter, audio filter) of each labelled copy
COPIES = {
    "a": ("null", "anull"),
    "mirror": ("hflip", "anull"),
    "fast": ("setpts=PTS/1.1", "atempo=1.1"),
    "quiet": ("eq=brightness=0.06", "volume=0.6"),
}


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def cremad_release(root: Path) -> Path:
    lab, unl = root / "video-labeled", root / "video-unlabeled-with-test2noise"
    lab.mkdir(parents=True)
    unl.mkdir()
    labels, tests = [], []
    for code, label in EMOTIONS.items():
        src = CREMAD / f"1001_DFA_{code}_XX.flv"
        for suffix, (vf, af) in COPIES.items():
            name = f"1001_DFA_{code}_{suffix}"
            ffmpeg("-i", str(src), "-map", "0:v", "-map", "0:a", "-vf", vf, "-af", af,
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                   str(lab / f"{name}.mp4"))  # fmt: skip
            labels.append([name, label])
        name = f"1002_DFA_{code}"
        ffmpeg(
            "-i", str(CREMAD / f"1002_DFA_{code}_XX.mp3"), "-c:a", "aac", str(unl / f"{name}.mp4")
        )
        tests.append([name, label])
    write_csv(root / "label-disdim.csv", ["name", "discrete"], labels)
    write_csv(root / "test-labels.csv", ["name", "discrete"], tests)
    return root


TARGETS = (
    "results/metrics/summary.json",
    "results/submission/mer2024-semi-noise.csv",
    "results/metrics/accounting.parquet",
)


@pytest.fixture(scope="module")
def cremad_run(tmp_path_factory) -> Path:
    if not CREMAD.is_dir():
        pytest.skip(f"{CREMAD} not found")
    release = cremad_release(tmp_path_factory.mktemp("cremad") / "release")
    workdir = tmp_path_factory.mktemp("cremad-run")
    config = overlay(
        "cremad-labels",
        workdir / "cremad.yaml",
        data_root=str(release),
        evaluate={"test_labels": str(release / "test-labels.csv")},
    )
    proc = snakemake(workdir, *config_args(config), "--workflow-profile", "none",
                     "--cores", "2", *TARGETS)  # fmt: skip
    assert proc.returncode == 0, failed(proc)
    return workdir


def test_cremad_labels_are_trained_predicted_and_scored_in_their_order(cremad_run):
    summary = json.loads((cremad_run / "results/metrics/summary.json").read_text())
    print("CREMA-D summary:", json.dumps(summary, indent=1))
    assert summary["cv"]["n_clips"] == 24 and summary["test"]["n_clips"] == 6
    assert 0.0 <= summary["cv"]["waf"] <= 1.0 and 0.0 <= summary["test"]["waf"] <= 1.0
    rounds = summary["self_training"]["rounds"]
    assert all(set(r["pseudo_per_class"]) <= set(LABELS) for r in rounds)
    per_class = (cremad_run / "results/metrics/per_class.tsv").read_text().splitlines()
    assert [line.split("\t")[1] for line in per_class[1:7]] == LABELS
    predictions = pq.read_table(cremad_run / "results/predictions/unlabelled.parquet")
    assert predictions.column_names == ["name", *(f"p_{x}" for x in LABELS), "discrete"]
    submission = read_csv(cremad_run / "results/submission/mer2024-semi-noise.csv")
    assert sorted(r["name"] for r in submission) == sorted(f"1002_DFA_{c}" for c in EMOTIONS)
    assert {r["discrete"] for r in submission} <= set(LABELS)
    oof = pq.read_table(cremad_run / "results/fusion/oof.parquet")
    assert sorted(set(oof.column("discrete").to_pylist())) == sorted(LABELS)


def test_every_text_of_a_release_without_transcriptions_comes_from_asr(cremad_run):
    accounting = pq.read_table(cremad_run / "results/metrics/accounting.parquet")
    assert accounting.column("text_source").to_pylist() == ["asr"] * 30
    log = (cremad_run / "logs/account_clips/account_clips.log").read_text()
    assert 'texts by source: {"asr": 30}' in log
