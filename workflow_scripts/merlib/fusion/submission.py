"""The challenge submission: which model's predictions it holds, and the CSV itself."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pyarrow as pa

from .. import metrics

MODELS = ("auto", "supervised", "self_training")


def choose_model(requested: str, record: Mapping | None) -> dict:
    """Which model the submission comes from, and why.

    ``requested`` is ``submission.model``: ``supervised``, ``self_training`` or ``auto``
    (the better cross-validation WAF of the two, scored on the same folds; a tie goes to
    supervised, the simpler model). ``record`` is self-training's record
    (``results/self_training/record.json``: round 0 is the supervised run on the same
    folds, the last round the self-trained one), or None when self-training is off.

    Returns ``{"requested", "model", "reason", "cv_waf": {"supervised", "self_training"}}``
    (``self_training`` absent without a record).
    """
    if requested not in MODELS:
        raise ValueError(f"submission.model must be one of {', '.join(MODELS)}, got {requested!r}")
    if record is None:
        if requested == "self_training":
            raise ValueError(
                "submission.model is self_training but self-training is off "
                "(self_training.rounds is 0): set rounds to 1 or more, or choose supervised"
            )
        return {
            "requested": requested,
            "model": "supervised",
            "reason": "self-training is off (self_training.rounds: 0)",
            "cv_waf": {},
        }
    rounds = record["rounds"]
    supervised, self_trained = float(rounds[0]["waf"]), float(rounds[-1]["waf"])
    scores = {"supervised": supervised, "self_training": self_trained}
    if requested == "auto":
        if self_trained > supervised:
            model = "self_training"
            reason = (
                f"auto: self-training's CV WAF {self_trained:.3f} is above supervised's "
                f"{supervised:.3f} (same folds)"
            )
        else:
            model = "supervised"
            relation = "equals" if self_trained == supervised else "is above"
            reason = (
                f"auto: supervised's CV WAF {supervised:.3f} {relation} self-training's "
                f"{self_trained:.3f} (same folds; a tie goes to supervised)"
            )
    else:
        model = requested
        reason = (
            f"submission.model: {requested} (CV WAF supervised {supervised:.3f}, "
            f"self-training {self_trained:.3f})"
        )
    return {"requested": requested, "model": model, "reason": reason, "cv_waf": scores}


def write_submission(predictions: pa.Table, path: str | os.PathLike) -> None:
    """Write the challenge submission CSV (header ``name,discrete``), atomically."""
    lines = ["name,discrete"]
    for name, label in zip(
        predictions.column("name").to_pylist(),
        predictions.column("discrete").to_pylist(),
        strict=True,
    ):
        if "," in name or "\n" in name:
            raise ValueError(f"clip name {name!r} cannot be written to a plain CSV")
        lines.append(f"{name},{label}")
    metrics.write_text_atomic("\n".join(lines) + "\n", path)
