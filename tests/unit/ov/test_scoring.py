"""MER-OV scores: the reference's per-clip accuracy and recall, over the ground truth's clips."""

from __future__ import annotations

import pytest

from merlib.ov.scoring import clip_scores, evaluate_openset


def test_clip_scores_follow_the_reference_definition():
    groups = [["happy", "joyful"], ["sad", "sadness"]]
    # G = {happy, sad}, P = {happy, angry}: |G&P| = 1
    assert clip_scores(["Happy", "sadness"], ["joyful", "angry"], groups) == (0.5, 0.5)
    # a word in no group maps to itself; duplicates after mapping count once
    assert clip_scores(["happy"], ["happy", "joyful"], groups) == (1.0, 1.0)
    assert clip_scores(["happy"], [], groups) == (0.0, 0.0)
    assert clip_scores(["happy", "calm"], ["calm"], []) == (1.0, 0.5)


def test_evaluate_uses_the_ground_truth_clips_and_reports_the_rest():
    gt = {"a": ["happy"], "b": ["sad", "worried"], "c": ["angry"]}
    pred = {"a": ["joyful"], "b": ["sad"], "x": ["happy"]}
    groupings = {"a": [["happy", "joyful"]], "b": []}
    metrics, per_clip = evaluate_openset(gt, pred, groupings, "test")
    assert metrics["n_clips"] == 3
    assert metrics["accuracy"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics["recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["avg"] == pytest.approx((metrics["accuracy"] + metrics["recall"]) / 2)
    assert metrics["unknown_predictions"] == ["x"]
    assert metrics["n_missing_predictions"] == 1 and metrics["n_without_grouping"] == 1
    assert list(per_clip["name"]) == ["a", "b", "c"]
