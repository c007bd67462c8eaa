"""The release and the test labels checked before any job (merlib/release_check.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from merlib.labels import LABELS
from merlib.release_check import labels_csv_problems, release_problems


def _release(root: Path, labels: str = "name,discrete\na,happy\nb,sad\n", texts=True) -> Path:
    for folder, names in (("video-labeled", "ab"), ("video-unlabeled-with-test2noise", "u")):
        (root / folder).mkdir(parents=True)
        for name in names:
            (root / folder / f"{name}.mp4").write_bytes(b"x")
    (root / "label-disdim.csv").write_text(labels)
    if texts:
        (root / "label-transcription.csv").write_text("name,chinese\na,你好\n")
    return root


def test_good_release_has_no_problem(tmp_path):
    assert release_problems(_release(tmp_path), LABELS) == []


def test_release_without_transcriptions_is_fine_with_asr_and_a_problem_without(tmp_path):
    root = _release(tmp_path, texts=False)
    assert release_problems(root, LABELS, asr=True) == []
    [problem] = release_problems(root, LABELS, asr=False)
    assert "label-transcription.csv is missing and transcripts.asr is false" in problem


def test_folders_named_otherwise_are_named_with_the_folders_found(tmp_path):
    root = _release(tmp_path)
    (root / "video-labeled").rename(root / "videos")
    problems = release_problems(root, LABELS)
    assert len(problems) == 1
    assert f"{root}/video-labeled/ is missing (folders found in {root}: " in problems[0]
    assert "video-unlabeled-with-test2noise/, videos/)" in problems[0]


def test_empty_folder_is_a_problem(tmp_path):
    root = _release(tmp_path)
    (root / "video-unlabeled-with-test2noise" / "u.mp4").unlink()
    [problem] = release_problems(root, LABELS)
    assert "video-unlabeled-with-test2noise/ holds no .mp4 file" in problem


def test_missing_columns_are_named_with_the_columns_found(tmp_path):
    root = _release(tmp_path, labels="name,label\na,happy\n")
    [problem] = release_problems(root, LABELS)
    assert "label-disdim.csv: missing column(s) discrete; found name, label" in problem
    assert "please name the columns name, discrete on line 1" in problem


def test_labels_outside_the_set_are_counted_with_their_first_lines(tmp_path):
    rows = "".join(f"x{i},bored\n" for i in range(5))
    root = _release(tmp_path, labels="name,discrete\na,happy\nb,Sad\n" + rows)
    [problem] = release_problems(root, LABELS)
    assert "column discrete: 5 label(s) outside the label set" in problem
    assert "line 4 ('bored'), line 5 ('bored'), line 6 ('bored') and 2 more" in problem


def test_other_label_set_is_accepted(tmp_path):
    root = _release(tmp_path, labels="name,discrete\na,fear\nb,disgust\n")
    assert release_problems(root, ["fear", "disgust"]) == []
    assert len(release_problems(root, LABELS)) == 1


def test_videos_matching_no_label_are_a_problem(tmp_path):
    root = _release(tmp_path, labels="name,discrete\nclip_a,happy\nclip_b,sad\n")
    [problem] = release_problems(root, LABELS)
    assert "none of the 2 videos" in problem and "'a', 'b'" in problem
    assert "'clip_a', 'clip_b'" in problem


def test_data_root_not_a_folder(tmp_path):
    [problem] = release_problems(tmp_path / "nope", LABELS)
    assert "is not a folder" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "is not a file"),
        ("name,label\nu,happy\n", "missing column(s) discrete; found name, label"),
        ("name,discrete\nu,bored\n", "1 label(s) outside the label set"),
    ],
)
def test_test_labels_problems(tmp_path, text, expected):
    path = tmp_path / "test-labels.csv"
    if text is not None:
        path.write_text(text)
    [problem] = labels_csv_problems(path, LABELS)
    assert expected in problem
