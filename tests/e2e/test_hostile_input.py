"""Hostile input against the whole workflow: one small release with good demo clips and
every kind of bad file and bad CSV row, run once. Each bad input must end with a clear
reason in the accounting table (or a clear error naming the file, when the release
cannot be read at all), and the good clips must be used as if the bad ones were absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_helpers import (
    config_args,
    failed,
    make_release,
    read_csv,
    snakemake,
    write_config,
    write_csv,
)

from merlib.av.ffmpeg import ffmpeg_exe
from merlib.schemas import ACCOUNTING, read_table

pytestmark = pytest.mark.e2e

LABELED, UNLABELED = "video-labeled", "video-unlabeled-with-test2noise"
LOCAL = ("--workflow-profile", "none", "--cores", "2")
GOOD_PER_CLASS, GOOD_UNLABELLED = 3, 4

# (split, name) -> (status, what its detail must say, what it must not say). Names are the
# clips' file stems. Every bad clip has a transcription, as in MER2024, so that one
# undecodable file still has its text feature: it is trained on (or predicted from) that,
# its media problems listed.
EXPECTED = {
    ("labeled", "truncated"): ("trained", "file is truncated", None),
    ("labeled", "text-named-mp4"): ("trained", "does not decode (moov atom not found)", None),
    ("labeled", "zero-bytes"): ("trained", "file is empty (0 bytes)", None),
    ("labeled", "video without audio"): ("trained", "no audio track", "media (visual)"),
    ("labeled", "audio-without-video"): ("trained", "no video track", "media (audio)"),
    ("labeled", "one-frame"): ("trained", "no audio track", "media (visual)"),
    ("labeled", "clip with spaces"): ("trained", None, None),
    ("labeled", "情绪 样本-é"): ("trained", None, None),
    ("labeled", "unknown-label"): ("excluded", "unknown label 'bored'", None),
    ("labeled", "duplicated"): ("excluded", "duplicate name on lines", None),
    ("labeled", "../escape"): ("excluded", "not a plain file name", None),
    ("labeled", "no-video-for-this-label"): ("excluded", "labelled but no video", None),
    ("unlabeled", ".."): ("excluded", "not a plain file name", None),
    ("unlabeled", "truncated-unlabelled"): ("predicted", "file is truncated", None),
    ("unlabeled", "zero-bytes-unlabelled"): ("predicted", "file is empty (0 bytes)", None),
    # No media and no transcription: its only vector is the flagged empty-text one.
    ("unlabeled", "nothing-usable"): (
        "fallback",
        "feature use_m3: flagged empty_transcription; prediction: no feature available "
        "(missing: egemaps, fer; flagged: use_m3 empty_transcription)",
        None,
    ),
}
BAD_LABELLED = [n for s, n in EXPECTED if s == "labeled" and EXPECTED[(s, n)][0] == "trained"]


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-nostdin", *args], check=True, timeout=120)


def add_hostile_files(release: Path) -> None:
    """Bad files and CSV rows added to a good release (its clips, labels, transcriptions)."""
    labels = [[r["name"], r["discrete"]] for r in read_csv(release / "label-disdim.csv")]
    texts = [[r["name"], r["chinese"]] for r in read_csv(release / "label-transcription.csv")]
    good = release / LABELED / f"{labels[0][0]}.mp4"
    lab, unl = release / LABELED, release / UNLABELED
    data = good.read_bytes()
    (lab / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (lab / "text-named-mp4.mp4").write_text("this is a text file, not a video\n")
    (lab / "zero-bytes.mp4").write_bytes(b"")
    ffmpeg("-i", str(good), "-an", "-c:v", "copy", str(lab / "video without audio.mp4"))
    ffmpeg("-i", str(good), "-vn", "-c:a", "copy", str(lab / "audio-without-video.mp4"))
    ffmpeg("-i", str(good), "-frames:v", "1", "-an", str(lab / "one-frame.mp4"))
    shutil.copy(good, lab / "clip with spaces.mp4")
    shutil.copy(good, lab / "情绪 样本-é.mp4")
    shutil.copy(good, lab / "unknown-label.mp4")
    shutil.copy(good, lab / "duplicated.mp4")
    (unl / "truncated-unlabelled.mp4").write_bytes(data[: len(data) // 3])
    (unl / "zero-bytes-unlabelled.mp4").write_bytes(b"")
    (unl / "nothing-usable.mp4").write_bytes(b"")  # and no transcription row
    shutil.copy(good, unl / "...mp4")  # the clip name ".."
    label = labels[0][1]
    labels += [[n, label] for n in BAD_LABELLED]
    labels += [
        ["unknown-label", "bored"],
        ["duplicated", "happy"],
        ["duplicated", "sad"],
        ["../escape", label],
        ["no-video-for-this-label", label],
    ]
    # The labels CSV is written with a UTF-8 byte-order mark, as Excel saves it.
    write_csv(release / "label-disdim.csv", ["name", "discrete"], labels, bom=True)
    transcribed = BAD_LABELLED + ["truncated-unlabelled", "zero-bytes-unlabelled"]
    texts += [[n, "我今天很高兴见到你。"] for n in transcribed]
    write_csv(release / "label-transcription.csv", ["name", "chinese"], texts)


@pytest.fixture(scope="module")
def hostile_release(built_demo_corpus, tmp_path_factory) -> Path:
    release = make_release(
        built_demo_corpus,
        tmp_path_factory.mktemp("hostile") / "release",
        GOOD_PER_CLASS,
        GOOD_UNLABELLED,
    )
    add_hostile_files(release)
    return release


@pytest.fixture(scope="module")
def hostile_run(hostile_release, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("hostile-run")
    overlay = write_config(workdir / "hostile.yaml", hostile_release, "hostile-release")
    proc = snakemake(workdir, *config_args(overlay), *LOCAL)
    assert proc.returncode == 0, failed(proc)
    return workdir


def accounting(workdir: Path) -> dict[tuple[str, str], dict]:
    table = read_table(workdir / "results" / "metrics" / "accounting.parquet", ACCOUNTING)
    return {(r["split"], r["name"]): r for r in table.to_pylist()}


CASES = [pytest.param(key, id=f"{key[0]}/{key[1]}") for key in sorted(EXPECTED)]


@pytest.mark.parametrize("key", CASES)
def test_hostile_input_ends_with_its_expected_status_and_reason(hostile_run, key):
    status, reason, absent = EXPECTED[key]
    row = accounting(hostile_run).get(key)
    assert row is not None, f"{key} is not accounted for"
    assert row["status"] == status, row
    if reason is None:
        assert row["detail"] is None, row
    else:
        assert reason in (row["detail"] or ""), row
    if absent is not None:
        assert absent not in row["detail"], row


def test_good_clips_are_unaffected_by_the_hostile_ones(hostile_run):
    good = {key: row for key, row in accounting(hostile_run).items() if key not in EXPECTED}
    splits = [split for split, _ in good]
    assert splits.count("labeled") == 6 * GOOD_PER_CLASS
    assert splits.count("unlabeled") == GOOD_UNLABELLED
    for row in good.values():
        assert row["status"] in ("trained", "predicted") and row["detail"] is None, row


def test_submission_covers_every_unlabelled_file_even_broken_ones(hostile_run, hostile_release):
    names = [r["name"] for r in read_csv(hostile_run / "results/submission/mer2024-semi-noise.csv")]
    stems = {p.name.removesuffix(".mp4") for p in (hostile_release / UNLABELED).glob("*.mp4")}
    assert sorted(names) == sorted(stems - {".."})
    summary = json.loads((hostile_run / "results/metrics/summary.json").read_text())
    assert 0.0 <= summary["cv"]["waf"] <= 1.0


@pytest.mark.parametrize(
    ("csv_name", "header", "message"),
    [
        ("label-disdim.csv", "name,label", "missing column(s) discrete; found name, label"),
        ("label-transcription.csv", "clip,chinese", "missing column(s) name"),
    ],
)
def test_csv_without_its_columns_stops_ingest_with_the_file_named(
    hostile_release, tmp_path, csv_name, header, message
):
    release = tmp_path / "release"
    shutil.copytree(hostile_release, release)
    lines = (release / csv_name).read_text(encoding="utf-8-sig").splitlines()
    (release / csv_name).write_text("\n".join([header, *lines[1:]]) + "\n")
    overlay = write_config(tmp_path / "bad.yaml", release)
    proc = snakemake(
        tmp_path / "run",
        *config_args(overlay),
        *LOCAL,
        "--show-failed-logs",  # as profiles/default does
        "results/ingest/manifest.parquet",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"{release / csv_name}: {message}" in out, out[-3000:]
    assert not (tmp_path / "run" / "results" / "ingest" / "manifest.parquet").exists()
