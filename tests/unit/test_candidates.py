"""evaluate.candidates: MER2024 scores a candidate subset; names must be release clips."""

import pandas as pd
import pytest

from merlib.candidates import (
    CandidatesError,
    check_candidates,
    read_candidates,
    release_names,
    restrict_to_candidates,
    scored_labels,
)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_read_candidates_one_name_per_line_drops_blank_lines_and_mp4(tmp_path):
    path = _write(tmp_path / "c.txt", "sample_a\n\nsample_b.mp4\n")
    assert read_candidates(path) == ["sample_a", "sample_b"]


def test_read_candidates_csv_name_column(tmp_path):
    path = _write(tmp_path / "c.csv", "id,name\n1,sample_a\n2,sample_b\n")
    assert read_candidates(path) == ["sample_a", "sample_b"]


@pytest.mark.parametrize(
    "text, cause",
    [("", "no clip names"), ("a\nb\na\n", "appear twice"), ("a\n../b\n", "entry 2")],
)
def test_read_candidates_bad_list_raises_naming_file(tmp_path, text, cause):
    path = _write(tmp_path / "c.txt", text)
    with pytest.raises(CandidatesError, match=cause) as info:
        read_candidates(path)
    assert "c.txt" in str(info.value)


def test_check_candidates_names_not_in_release_give_counts_and_first_names(tmp_path):
    for folder, names in (("video-labeled", ["l1"]), ("video-unlabeled-with-test2noise", ["u1"])):
        (tmp_path / folder).mkdir()
        for n in names:
            (tmp_path / folder / f"{n}.mp4").write_bytes(b"")
    assert release_names(tmp_path) == {"l1", "u1"}
    path = _write(tmp_path / "c.txt", "u1\nghost1\nghost2\n")
    with pytest.raises(CandidatesError, match=r"2 of 3 names are not clips of .*ghost1, ghost2"):
        check_candidates(path, release_names(tmp_path), "the release")
    assert check_candidates(_write(tmp_path / "ok.txt", "u1\n"), {"u1"}, "x") == ["u1"]


def test_restrict_to_candidates_keeps_only_listed_labelled_clips():
    labels = pd.DataFrame({"name": ["a", "b", "c"], "discrete": ["happy", "sad", "angry"]})
    kept = restrict_to_candidates(labels, ["c", "a", "unlabelled"])
    assert kept.to_dict("list") == {"name": ["a", "c"], "discrete": ["happy", "angry"]}
    assert restrict_to_candidates(labels, None) is labels
    with pytest.raises(CandidatesError, match="nothing to score"):
        restrict_to_candidates(labels, ["x"])


def test_scored_labels_candidate_not_predicted_raises(tmp_path):
    labels = pd.DataFrame({"name": ["a", "b"], "discrete": ["happy", "sad"]})
    path = _write(tmp_path / "c.txt", "a\nz\n")
    with pytest.raises(CandidatesError, match="1 of 2 names are not clips of the predicted pool"):
        scored_labels(labels, path, ["a", "b"])
    kept, summary = scored_labels(labels, _write(tmp_path / "d.txt", "b\n"), ["a", "b"])
    assert list(kept["name"]) == ["b"]
    assert summary == {"n_names": 1, "n_scored": 1, "n_labels": 2}
    assert scored_labels(labels, None, ["a"]) == (labels, None)
