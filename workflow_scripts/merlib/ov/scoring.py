"""MER-OV scores, as the challenge computes them (MERTools ``MER2024/main-ov.py``).

Per clip, a synonym grouping maps each lower-cased word to the first word of its group (a
word in no group maps to itself; grouping words are matched as written, as in the
reference); with G and P the mapped sets, accuracy = |G & P| / |P| and recall =
|G & P| / |G|, both 0 when P is empty; the figures are the means over clips, ``avg`` their
mean.

Where merflow is stricter than the reference: the clips scored are the ground truth's (the
reference scores the clips that have a synonym file); a clip without a prediction counts as
an empty set, a prediction for a clip outside the ground truth is reported in
``unknown_predictions``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .openset import Grouping, OpenSetError, format_openset, synonym_map


def clip_scores(gt: Sequence[str], pred: Sequence[str], groups: Grouping) -> tuple[float, float]:
    """(accuracy, recall) of one clip, as the reference computes them."""
    mapping = synonym_map(groups)
    g = {mapping.get(w.lower(), w.lower()) for w in gt}
    p = {mapping.get(w.lower(), w.lower()) for w in pred}
    if not p:
        return 0.0, 0.0
    if not g:
        raise OpenSetError("empty ground-truth set: recall is undefined")
    hit = len(g & p)
    return hit / len(p), hit / len(g)


def evaluate_openset(
    gt: Mapping[str, Sequence[str]],
    pred: Mapping[str, Sequence[str]],
    groupings: Mapping[str, Grouping],
    grouping_source: str,
) -> tuple[dict, pd.DataFrame]:
    """Scores over the ground truth's clips -> (metrics dict, per-clip table)."""
    if not gt:
        raise OpenSetError("the ground truth holds no clip")
    rows = []
    for name, gt_words in gt.items():
        acc, rec = clip_scores(gt_words, pred.get(name, []), groupings.get(name, []))
        rows.append(
            {
                "name": name,
                "gt": format_openset(gt_words),
                "pred": format_openset(pred.get(name, [])),
                "accuracy": acc,
                "recall": rec,
                "has_prediction": name in pred,
                "has_grouping": name in groupings,
            }
        )
    per_clip = pd.DataFrame(rows)
    accuracy = float(per_clip["accuracy"].mean())
    recall = float(per_clip["recall"].mean())
    metrics = {
        "accuracy": accuracy,
        "recall": recall,
        "avg": (accuracy + recall) / 2,
        "n_clips": len(rows),
        "n_missing_predictions": int((~per_clip["has_prediction"]).sum()),
        "n_without_grouping": int((~per_clip["has_grouping"]).sum()),
        "unknown_predictions": sorted(set(pred) - set(gt)),
        "grouping": grouping_source,
    }
    return metrics, per_clip


def compare_predictions(
    gt: Mapping[str, Sequence[str]],
    preds: Mapping[str, Mapping[str, Sequence[str]]],
    groupings: Mapping[str, Mapping[str, Grouping]],
) -> pd.DataFrame:
    """Scores of each prediction (``{method: pred}``) with exact words (grouping ``none``)
    and under each grouping (``{"<grouping>/<method>": groupings}``), one row each."""
    rows = []
    for method, pred in preds.items():
        options = {"none": {}}
        options.update(
            {key.split("/", 1)[0]: g for key, g in groupings.items() if key.endswith(f"/{method}")}
        )
        for grouping, groups in options.items():
            metrics, _ = evaluate_openset(gt, pred, groups, grouping)
            rows.append(
                {
                    "method": method,
                    "grouping": grouping,
                    **{k: metrics[k] for k in ("accuracy", "recall", "avg", "n_clips")},
                    "words_per_clip": sum(len(pred.get(n, [])) for n in gt) / len(gt),
                }
            )
    return pd.DataFrame(rows)
