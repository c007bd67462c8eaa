"""submission.model: which model the challenge CSV comes from, and the reason given."""

from __future__ import annotations

import pytest

from merlib import protocol
from merlib.fusion.submission import choose_model


def _record(supervised: float, self_trained: float) -> dict:
    """A self-training record: round 0 is the supervised run on the same folds."""
    return {"rounds": [{"round": 0, "waf": supervised}, {"round": 1, "waf": self_trained}]}


def test_auto_submits_self_training_when_its_cv_waf_is_higher():
    choice = choose_model("auto", _record(0.906, 0.909))
    assert choice["model"] == "self_training"
    assert "0.909 is above supervised's 0.906" in choice["reason"]
    assert choice["cv_waf"] == {"supervised": 0.906, "self_training": 0.909}


def test_auto_submits_supervised_when_its_cv_waf_is_higher():
    choice = choose_model("auto", _record(0.91, 0.85))
    assert choice["model"] == "supervised"
    assert "0.910 is above self-training's 0.850" in choice["reason"]


def test_auto_gives_a_tie_to_supervised():
    choice = choose_model("auto", _record(0.9, 0.9))
    assert choice["model"] == "supervised"
    assert "equals" in choice["reason"] and "tie goes to supervised" in choice["reason"]


@pytest.mark.parametrize("requested", ["supervised", "self_training"])
@pytest.mark.parametrize("scores", [(0.9, 0.8), (0.8, 0.9)])
def test_an_explicit_model_is_submitted_whatever_the_scores(requested, scores):
    choice = choose_model(requested, _record(*scores))
    assert choice["model"] == requested and choice["requested"] == requested
    assert f"submission.model: {requested}" in choice["reason"]


def test_without_self_training_auto_and_supervised_submit_supervised():
    for requested in ("auto", "supervised"):
        choice = choose_model(requested, None)
        assert choice["model"] == "supervised"
        assert "self-training is off" in choice["reason"]


def test_self_training_requested_while_off_raises_naming_the_fix():
    with pytest.raises(ValueError, match="self_training.rounds"):
        choose_model("self_training", None)


def test_an_unknown_model_raises_naming_the_choices():
    with pytest.raises(ValueError, match="auto, supervised, self_training"):
        choose_model("best", _record(0.9, 0.8))


@pytest.mark.parametrize(("mode", "model"), [("merflow", "auto"), ("reference", "supervised")])
def test_protocol_sets_the_submission_model_left_null(mode, model):
    resolved = protocol.resolve({"protocol": mode, "submission": {"model": None}})
    assert resolved["submission"]["model"] == model
    explicit = protocol.resolve({"protocol": mode, "submission": {"model": "self_training"}})
    assert explicit["submission"]["model"] == "self_training"
