"""Broken releases against the real workflow: each mistake about the release or the test
labels stops a dry run before any job, in one message naming the file, the line or column
and the fix (merlib/release_check.py); a release without label-transcription.csv is
planned with ASR for every clip. Dry runs only: each takes seconds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from e2e_helpers import (
    config_args,
    failed,
    planned_jobs,
    read_csv,
    snakemake,
    write_config,
    write_csv,
)

pytestmark = pytest.mark.e2e

LABELED, UNLABELED = "video-labeled", "video-unlabeled-with-test2noise"


def _empty_labelled_folder(release: Path) -> str:
    for video in (release / LABELED).glob("*.mp4"):
        video.unlink()
    return f"{release / LABELED}/ holds no .mp4 file: please put the release's videos there"


def _folder_named_otherwise(release: Path) -> str:
    (release / LABELED).rename(release / "videos")
    return (
        f"{release / LABELED}/ is missing (folders found in {release}: "
        f"{UNLABELED}/, videos/): please put the release's <name>.mp4 files there, "
        "or rename the folder that holds them"
    )


def _missing_column(release: Path) -> str:
    rows = read_csv(release / "label-disdim.csv")
    write_csv(
        release / "label-disdim.csv", ["name", "label"], [[r["name"], r["discrete"]] for r in rows]
    )
    return (
        f"{release / 'label-disdim.csv'}: missing column(s) discrete; found name, label: "
        "please name the columns name, discrete on line 1 of label-disdim.csv"
    )


def _labels_outside_the_set(release: Path) -> str:
    rows = [[r["name"], r["discrete"]] for r in read_csv(release / "label-disdim.csv")]
    for row in rows[2:6]:
        row[1] = "bored"
    write_csv(release / "label-disdim.csv", ["name", "discrete"], rows)
    return (
        f"{release / 'label-disdim.csv'}, column discrete: 4 label(s) outside the label set "
        "(neutral, angry, happy, sad, worried, surprise): line 4 ('bored'), line 5 ('bored'), "
        "line 6 ('bored') and 1 more; please correct them"
    )


def _videos_match_no_label(release: Path) -> str:
    rows = read_csv(release / "label-disdim.csv")
    write_csv(
        release / "label-disdim.csv",
        ["name", "discrete"],
        [[f"clip_{r['name']}", r["discrete"]] for r in rows],
    )
    return f"none of the {len(rows)} videos of {release / LABELED}/ has a row in"


def _missing_test_labels(release: Path) -> str:
    (release / "test-labels.csv").unlink()
    return (
        f"evaluate.test_labels: {release / 'test-labels.csv'} is not a file: please point it "
        "at a CSV with columns name, discrete"
    )


BROKEN = {
    "empty-folder": _empty_labelled_folder,
    "folder-named-otherwise": _folder_named_otherwise,
    "missing-column": _missing_column,
    "labels-outside-the-set": _labels_outside_the_set,
    "videos-match-no-label": _videos_match_no_label,
    "missing-test-labels": _missing_test_labels,
}


@pytest.fixture
def release_copy(small_release, tmp_path) -> Path:
    return Path(shutil.copytree(small_release, tmp_path / "release"))


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_release_stops_before_any_job_naming_file_and_fix(release_copy, tmp_path, case):
    expected = BROKEN[case](release_copy)
    overlay = write_config(tmp_path / "broken.yaml", release_copy)
    workdir = tmp_path / "run"
    proc = snakemake(workdir, *config_args(overlay), "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, failed(proc)
    assert "Config error: " in out, out[-3000:]
    assert expected in out, out[-3000:]
    assert "Traceback" not in out and "Job stats" not in out, out[-3000:]
    assert not (workdir / "results").exists()


def test_several_release_mistakes_come_in_one_message(release_copy, tmp_path):
    expected = [BROKEN[c](release_copy) for c in ("missing-column", "missing-test-labels")]
    overlay = write_config(tmp_path / "broken.yaml", release_copy)
    proc = snakemake(tmp_path / "run", *config_args(overlay), "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Config error: 2 mistakes." in out, failed(proc)
    assert all(e in out for e in expected), out[-3000:]


def test_release_without_transcriptions_is_planned_with_asr_for_every_clip(release_copy, tmp_path):
    (release_copy / "label-transcription.csv").unlink()
    overlay = write_config(tmp_path / "no-texts.yaml", release_copy)
    proc = snakemake(tmp_path / "run", *config_args(overlay), "-n")
    jobs = {rule for rule, _ in planned_jobs(proc)}
    assert {"ingest_release", "train_fusion", "evaluate_predictions"} <= jobs, failed(proc)
