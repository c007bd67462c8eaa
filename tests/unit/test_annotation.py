"""Annotation support: selection by system agreement, and K-of-N annotator agreement."""

from __future__ import annotations

import pandas as pd
import pytest

from merlib.annotation import AnnotationInputError, agree_labels, select_for_annotation
from merlib.labels import LABELS


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_selection_scores_by_majority_share_and_balances_classes(tmp_path):
    rows = ["name,s1,s2,s3,s4"]
    for label in LABELS:
        rows.append(f"{label}_sure,{label},{label},{label},{label}")  # score 1.0
        a, b = [other for other in LABELS if other != label][:2]
        rows.append(f"{label}_half,{label},{label},{a},{b}")  # 0.5
    rows += ["happy_more,happy,happy,happy,sad", "happy_again,happy,happy,happy,sad"]  # 0.75
    selected = select_for_annotation(write(tmp_path / "p.csv", "\n".join(rows) + "\n"), 6)
    assert sorted(selected["name"]) == sorted(f"{lab}_sure" for lab in LABELS)
    assert (selected["score"] == 1.0).all()
    # more places than one per class: the rest go to the best-scored clips left
    selected = select_for_annotation(tmp_path / "p.csv", 8)
    assert set(selected["name"]) >= {"happy_more", "happy_again"}
    assert selected.loc[selected["name"] == "happy_more", "score"].item() == 0.75


def test_selection_rejects_unknown_labels_and_missing_columns(tmp_path):
    with pytest.raises(AnnotationInputError, match=r"p\.csv.*'joy'"):
        select_for_annotation(write(tmp_path / "p.csv", "name,s1\na,joy\n"), 2)
    with pytest.raises(AnnotationInputError, match="no prediction columns"):
        select_for_annotation(write(tmp_path / "q.csv", "name\na\n"), 2)
    with pytest.raises(AnnotationInputError, match="listed twice"):
        select_for_annotation(write(tmp_path / "r.csv", "name,s1\na,sad\na,sad\n"), 2)


def test_four_of_five_annotators_must_agree(tmp_path):
    files = []
    for i in range(5):
        b = "sad" if i < 3 else "happy"  # only 3 of 5 agree on clip b
        c = "angry" if i < 4 else "neutral"
        files.append(write(tmp_path / f"a{i}.csv", f"name,discrete\na,worried\nb,{b}\nc,{c}\n"))
    votes = agree_labels(files, 4).set_index("name")
    assert votes.loc["a", "discrete"] == "worried" and votes.loc["a", "agree"] == 5
    assert pd.isna(votes.loc["b", "discrete"]) and votes.loc["b", "agree"] == 3
    assert votes.loc["c", "discrete"] == "angry"


def test_agreement_rejects_malformed_files(tmp_path):
    good = write(tmp_path / "g.csv", "name,discrete\na,sad\n")
    with pytest.raises(AnnotationInputError, match="no 'discrete' column"):
        agree_labels([good, write(tmp_path / "x.csv", "name,label\na,sad\n")], 1)
    with pytest.raises(AnnotationInputError, match="does not exist"):
        agree_labels([good, tmp_path / "missing.csv"], 1)
    with pytest.raises(ValueError, match="min_agree"):
        agree_labels([good], 2)
