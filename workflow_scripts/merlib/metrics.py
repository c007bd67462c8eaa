"""MER2024 metrics (weighted F1, accuracy), fold summaries and the evaluation report.

The challenge ranks discrete emotion recognition by the weighted average F1 score (WAF):
per-class F1 weighted by each class's support in the true labels, i.e.
``sklearn.metrics.f1_score(average="weighted")``. Every function here takes label
*strings* and scores them over the run's label set (``labels``, a
:class:`merlib.labels.LabelSet`: the config's, MER2024's six by default), so that a class
absent from one fold is handled the same way in every fold (it carries zero weight).

Cross-validation results are summarised as the mean over folds of each fold's WAF and
accuracy, with the *population* standard deviation over folds (numpy's default,
``ddof=0``), as the MER2024 baseline reports them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.metrics import (
    confusion_matrix as _sk_confusion_matrix,
)

from .atomic import write_text_atomic
from .labels import MER2024, LabelSet, UnknownLabelError


class EvaluationError(ValueError):
    """Predictions and labels do not fit together (missing clips, inconsistent folds)."""


def _checked(y: Iterable[str], what: str, labels: LabelSet) -> list[str]:
    values = [str(v) for v in y]
    for i, v in enumerate(values):
        try:
            labels.index(v)
        except UnknownLabelError as exc:
            raise UnknownLabelError(f"{what}[{i}]: {exc}") from None
    return values


def _pair(
    y_true: Iterable[str], y_pred: Iterable[str], labels: LabelSet
) -> tuple[list[str], list[str]]:
    t = _checked(y_true, "y_true", labels)
    p = _checked(y_pred, "y_pred", labels)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    if not t:
        raise ValueError("cannot score an empty set of labels")
    return t, p


def waf(y_true: Iterable[str], y_pred: Iterable[str], labels: LabelSet = MER2024) -> float:
    """Weighted average F1 over ``labels`` (weights = support in ``y_true``)."""
    t, p = _pair(y_true, y_pred, labels)
    return float(f1_score(t, p, labels=list(labels), average="weighted", zero_division=0))


def waf_indices(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = len(MER2024)) -> float:
    """:func:`waf` on label indices, without sklearn's per-call overhead (for training loops).

    Same arithmetic as sklearn: per class ``f1 = 2 tp / (support + predicted)`` (0 when
    both are 0), averaged with weights = support.
    """
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"need two non-empty arrays of the same shape, got {t.shape}, {p.shape}")
    k = n_classes
    tp = np.bincount(t[t == p], minlength=k).astype(np.float64)
    support = np.bincount(t, minlength=k)
    denom = support + np.bincount(p, minlength=k).astype(np.float64)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(np.average(f1, weights=support))


def accuracy(y_true: Iterable[str], y_pred: Iterable[str], labels: LabelSet = MER2024) -> float:
    """Fraction of clips whose predicted label equals the true one."""
    t, p = _pair(y_true, y_pred, labels)
    return float(accuracy_score(t, p))


def confusion_matrix(
    y_true: Iterable[str], y_pred: Iterable[str], labels: LabelSet = MER2024
) -> np.ndarray:
    """(k, k) int64 counts; row = true label, column = predicted label, in ``labels`` order."""
    t, p = _pair(y_true, y_pred, labels)
    return _sk_confusion_matrix(t, p, labels=list(labels)).astype(np.int64)


def per_class_scores(
    y_true: Iterable[str], y_pred: Iterable[str], labels: LabelSet = MER2024
) -> pd.DataFrame:
    """One row per label: ``label, precision, recall, f1, support`` (0 where undefined)."""
    t, p = _pair(y_true, y_pred, labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, labels=list(labels), zero_division=0
    )
    return pd.DataFrame(
        {
            "label": list(labels),
            "precision": precision.astype(float),
            "recall": recall.astype(float),
            "f1": f1.astype(float),
            "support": support.astype(np.int64),
        }
    )


def summarise(per_fold: Sequence[dict]) -> dict:
    """Mean and population std (``ddof=0``) of ``waf`` and ``acc`` over folds.

    ``per_fold`` holds one dict per fold with at least the keys ``waf`` and ``acc``.
    Returns ``{"waf": mean, "acc": mean, "std": {"waf": std, "acc": std}}``.
    """
    if not per_fold:
        raise ValueError("summarise needs at least one fold")
    wafs = np.array([float(f["waf"]) for f in per_fold], dtype=np.float64)
    accs = np.array([float(f["acc"]) for f in per_fold], dtype=np.float64)
    return {
        "waf": float(wafs.mean()),
        "acc": float(accs.mean()),
        "std": {"waf": float(wafs.std(ddof=0)), "acc": float(accs.std(ddof=0))},
    }


# --- evaluation of a run: OOF predictions, fold records, test predictions ----------------


def fold_scores(oof: pa.Table, labels: LabelSet = MER2024) -> list[dict]:
    """Per-fold ``{"fold", "waf", "acc", "n_clips"}`` recomputed from an OOF table."""
    df = oof.select(["fold", "discrete", "predicted"]).to_pandas()
    rows = []
    for fold, group in df.groupby("fold", sort=True):
        rows.append(
            {
                "fold": int(fold),
                "waf": waf(group["discrete"], group["predicted"], labels),
                "acc": accuracy(group["discrete"], group["predicted"], labels),
                "n_clips": int(len(group)),
            }
        )
    return rows


def read_test_labels(path: str | os.PathLike, labels: LabelSet = MER2024) -> pd.DataFrame:
    """Read a ``name,discrete`` CSV of test labels; checks columns, duplicates and labels."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(df.columns[:2]) != ["name", "discrete"]:
        raise EvaluationError(
            f"{path}: expected the columns name,discrete, found {','.join(df.columns)}"
        )
    df = df[["name", "discrete"]]
    dup = df["name"][df["name"].duplicated()].unique()
    if len(dup):
        raise EvaluationError(f"{path}: {len(dup)} names appear twice, e.g. {dup[0]!r}")
    for i, label in enumerate(df["discrete"]):
        try:
            labels.index(label)
        except UnknownLabelError as exc:
            raise UnknownLabelError(f"{path}, row {i + 2} ({df['name'].iat[i]}): {exc}") from None
    return df


def evaluate(
    oof: pa.Table,
    fold_records: Sequence[dict],
    predictions: pa.Table | None = None,
    test_labels: pd.DataFrame | None = None,
    labels: LabelSet = MER2024,
) -> tuple[dict, pd.DataFrame, np.ndarray]:
    """Score a run: the summary dict, per-class scores (cv and test) and the CV confusion.

    The CV scores are recomputed from the OOF table (per fold, then :func:`summarise`)
    and checked against ``fold_records`` (what training measured on the same models);
    a disagreement raises :class:`EvaluationError`. ``test`` is present only when
    ``test_labels`` is given; every test name must have a prediction.
    """
    per_fold = fold_scores(oof, labels)
    recorded = {int(r["fold"]): r for r in fold_records}
    if set(recorded) != {r["fold"] for r in per_fold}:
        raise EvaluationError(
            f"folds in the OOF table {sorted(r['fold'] for r in per_fold)} differ from the "
            f"folds recorded by training {sorted(recorded)}"
        )
    for r in per_fold:
        rec = recorded[r["fold"]]
        if not math.isclose(r["waf"], float(rec["waf"]), abs_tol=1e-9):
            raise EvaluationError(
                f"fold {r['fold']}: WAF from the OOF table ({r['waf']:.6f}) differs from the "
                f"WAF recorded by training ({float(rec['waf']):.6f})"
            )
        r["best_epoch"] = int(rec.get("best_epoch", -1))
    cv = summarise(per_fold)
    cv["n_clips"] = int(oof.num_rows)
    cv["folds"] = per_fold
    summary: dict = {"cv": cv}

    y_true = oof.column("discrete").to_pylist()
    y_pred = oof.column("predicted").to_pylist()
    per_class = [per_class_scores(y_true, y_pred, labels).assign(set="cv")]
    confusion = confusion_matrix(y_true, y_pred, labels)

    if test_labels is not None:
        if predictions is None:
            raise EvaluationError("test labels were given but no predictions to score")
        t, p = _test_pairs(predictions, test_labels)
        summary["test"] = {
            "waf": waf(t, p, labels),
            "acc": accuracy(t, p, labels),
            "n_clips": len(t),
        }
        per_class.append(per_class_scores(t, p, labels).assign(set="test"))

    table = pd.concat(per_class, ignore_index=True)
    table = table[["set", "label", "precision", "recall", "f1", "support"]]
    return summary, table, confusion


def _test_pairs(predictions: pa.Table, test_labels: pd.DataFrame) -> tuple[list, list]:
    """(true, predicted) labels of the test clips; every one must have a prediction."""
    pred = dict(
        zip(
            predictions.column("name").to_pylist(),
            predictions.column("discrete").to_pylist(),
            strict=True,
        )
    )
    missing = [n for n in test_labels["name"] if n not in pred]
    if missing:
        raise EvaluationError(
            f"{len(missing)} of {len(test_labels)} test-label clips have no prediction, "
            f"e.g. {', '.join(missing[:5])}"
        )
    return list(test_labels["discrete"]), [pred[n] for n in test_labels["name"]]


def test_confusion(
    predictions: pa.Table, test_labels: pd.DataFrame, labels: LabelSet = MER2024
) -> np.ndarray:
    """Confusion matrix of the pool predictions against the known test labels."""
    t, p = _test_pairs(predictions, test_labels)
    return confusion_matrix(t, p, labels)


def self_training_summary(
    record: dict,
    predictions: pa.Table,
    test_labels: pd.DataFrame | None = None,
    labels: LabelSet = MER2024,
) -> dict:
    """Self-training beside supervised: per round (0 = supervised) the CV scores on the
    same folds; ``cv`` is the last round's and ``test`` scores its pool predictions."""
    rounds = [
        {k: r[k] for k in ("round", "n_pseudo", "pseudo_per_class", "waf", "acc", "std")}
        for r in record["rounds"]
    ]
    last = rounds[-1]
    out = {
        "threshold": record["threshold"],
        "rounds": rounds,
        "cv": {"waf": last["waf"], "acc": last["acc"], "std": last["std"]},
    }
    if test_labels is not None:
        t, p = _test_pairs(predictions, test_labels)
        out["test"] = {"waf": waf(t, p, labels), "acc": accuracy(t, p, labels), "n_clips": len(t)}
    return out


def _draw_confusion(ax, matrix: np.ndarray, title: str, labels: LabelSet):
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), list(labels), rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title} (n = {int(matrix.sum())})")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", color=colour)
    return im


def plot_confusion(
    matrix: np.ndarray,
    path: str | os.PathLike,
    title: str = "Cross-validation",
    test: np.ndarray | None = None,
    labels: LabelSet = MER2024,
) -> None:
    """Save a PNG of a confusion matrix: colour = row share, text = count (Agg backend).
    With ``test`` (the pool's matrix, when its labels are known) a second panel beside it."""
    from .plots import save_figure, subplots

    panels = [(np.asarray(matrix), title)]
    if test is not None:
        panels.append((np.asarray(test), "Test (unlabelled pool)"))
    fig, axes = subplots(figsize=(6 * len(panels), 5), ncols=len(panels), squeeze=False)
    for ax, (m, name) in zip(axes[0], panels, strict=True):
        im = _draw_confusion(ax, m, name, labels)
    fig.colorbar(im, ax=list(axes[0]), label="share of the true class")
    save_figure(fig, path, tight=False)


def plot_per_class_f1(
    per_class: pd.DataFrame, path: str | os.PathLike, labels: LabelSet = MER2024
) -> None:
    """Bar chart of per-class F1, one group of bars per label and one bar per set; each bar
    labelled with its value, the legend outside the axes."""
    from .plots import label_bars, legend_outside, save_figure, subplots

    sets = list(dict.fromkeys(per_class["set"]))
    width = 0.8 / max(len(sets), 1)
    fig, ax = subplots(figsize=(8, 4))
    x = np.arange(len(labels))
    for k, name in enumerate(sets):
        rows = per_class[per_class["set"] == name].set_index("label").reindex(list(labels))
        bars = ax.bar(x + k * width, rows["f1"].to_numpy(dtype=float), width, label=name)
        label_bars(ax, bars)
    ax.set_xticks(x + width * (len(sets) - 1) / 2, list(labels), rotation=30, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("F1")
    ax.set_title("Per-class F1")
    legend_outside(ax)
    save_figure(fig, path)


def write_tsv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a data frame as a tab-separated table with a header, atomically."""
    write_text_atomic(table.to_csv(sep="\t", index=False, float_format="%.6g"), path)


def write_json(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    write_text_atomic(json.dumps(obj, indent=2, sort_keys=False) + "\n", path)


__all__ = [
    "EvaluationError",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fold_scores",
    "per_class_scores",
    "plot_confusion",
    "plot_per_class_f1",
    "read_test_labels",
    "self_training_summary",
    "summarise",
    "test_confusion",
    "waf",
    "waf_indices",
    "write_json",
    "write_tsv",
]
