"""Checkpoints of trained fusion models, and prediction of the unlabelled clips.

Unlabelled clips are predicted by averaging the K kept fold models' logits, then a
softmax (:func:`predict`). A clip with no usable feature gets the training class prior
and a row in the fallbacks table (:func:`predict_manifest`).

**Checkpoint.** :func:`merlib.fusion.training.cross_validate` returns a dict of plain
Python values and tensors (:func:`save_checkpoint` / :func:`load_checkpoint`, loadable
with ``torch.load(path, weights_only=True)``)::

    {"format": "merflow-attention-fusion", "version": 1,
     "labels": [6 label strings], "features": [names], "dims": [ints],
     "params": {FusionParams fields}, "class_prior": float64 tensor (6,),
     "folds": [{"fold": int, "best_epoch": int, "waf": float, "acc": float,
                "mean": {feature: float32 tensor (dim,)}, "std": {...},
                "state_dict": {parameter name: tensor}}, ...]}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import torch

from ..atomic import atomic_path
from ..labels import LabelSet, label_set
from ..schemas import FALLBACKS, predictions_schema, table_from_rows
from .dataset import (
    FeatureSources,
    Files,
    describe_missing,
    load_unlabelled,
    stack_mask,
    usable_features,
)
from .model import AttentionFusion, eval_logits, softmax
from .params import FusionParams
from .standardise import standardise

CHECKPOINT_FORMAT = "merflow-attention-fusion"

CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that is not a merflow fusion model, or does not fit the features given."""


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> None:
    """``torch.save`` the checkpoint atomically (temporary file, then rename).

    Saved through an open file: given a path, torch names the archive's records after it,
    here a random temporary name, and the same model gave other bytes on every run."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(checkpoint, fh)


def load_checkpoint(path: str | os.PathLike, labels: LabelSet | None = None) -> dict:
    """Load a checkpoint with ``weights_only=True`` and check it is a fusion model (of the
    label set ``labels``, in its order, when given: the run's config labels)."""
    checkpoint = torch.load(path, weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a merflow attention-fusion checkpoint")
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {checkpoint.get('version')}, "
            f"this merflow reads version {CHECKPOINT_VERSION}"
        )
    if labels is not None and list(checkpoint["labels"]) != list(labels):
        raise CheckpointError(
            f"{path}: labels {list(checkpoint['labels'])} are not the config's {list(labels)}"
        )
    return checkpoint


def predict(
    checkpoint: Mapping, X: Mapping[str, np.ndarray], mask: Mapping[str, np.ndarray]
) -> np.ndarray:
    """(n, labels) float64 probabilities: softmax of the mean of the K fold models' logits.

    ``X``/``mask`` must hold every feature of the checkpoint (extra ones are ignored).
    Clips with no feature at all get the checkpoint's class prior.
    """
    features = list(checkpoint["features"])
    for f, dim in zip(features, checkpoint["dims"], strict=True):
        if f not in X or f not in mask:
            raise CheckpointError(f"the model needs feature {f!r}, which was not given")
        if np.asarray(X[f]).ndim != 2 or np.asarray(X[f]).shape[1] != dim:
            raise CheckpointError(
                f"feature {f!r}: the model expects dimension {dim}, got {np.shape(X[f])}"
            )
    arrays = [np.asarray(X[f], dtype=np.float32) for f in features]
    M = stack_mask(mask, features)
    params = FusionParams(**checkpoint["params"])
    n_classes = len(checkpoint["labels"])
    total = np.zeros((M.shape[0], n_classes), dtype=np.float64)
    for entry in checkpoint["folds"]:
        model = AttentionFusion(
            checkpoint["dims"], params.hidden_dim, params.dropout, params.attention, n_classes
        )
        model.load_state_dict(entry["state_dict"])
        Z = [
            standardise(a, M[:, i], entry["mean"][f].numpy(), entry["std"][f].numpy())
            for i, (f, a) in enumerate(zip(features, arrays, strict=True))
        ]
        total += eval_logits(model, Z, torch.from_numpy(np.ascontiguousarray(M)))
    probs = softmax(total / len(checkpoint["folds"]))
    none = ~M.any(axis=1)
    probs[none] = checkpoint["class_prior"].numpy().astype(np.float64)
    return probs


@dataclass
class PredictionRun:
    predictions: pa.Table  # predictions_schema(the checkpoint's labels)
    fallbacks: pa.Table  # FALLBACKS


def predict_manifest(
    manifest_path: str | os.PathLike,
    checkpoint: Mapping,
    sources: FeatureSources | Files,
) -> PredictionRun:
    """Predict every unlabelled clip of the manifest (split ``unlabeled``), exactly once.

    Clips without a usable feature among the model's (none present, or only flagged
    vectors) get the training class prior and a row in the fallbacks table. The label set
    is the checkpoint's (its probability columns, in its order).
    """
    labels = label_set(checkpoint["labels"])
    sources = FeatureSources.of(sources)
    features = list(checkpoint["features"])
    missing = [f for f in features if f not in sources.files]
    if missing:
        raise ValueError(f"the model needs feature(s) {', '.join(missing)}: no files given")
    pool = load_unlabelled(manifest_path, sources, features)
    names, X, mask, flags = pool.names, pool.X, pool.mask, pool.flags
    probs = predict(checkpoint, X, mask) if names else np.zeros((0, len(labels)))
    if names:
        has_any = usable_features(mask, flags)
        probs[~has_any] = checkpoint["class_prior"].numpy().astype(np.float64)
    else:
        has_any = np.zeros(0, dtype=bool)
    rows = [
        {"name": n}
        | dict(zip(labels.prob_columns, map(float, p), strict=True))
        | {"discrete": labels[int(np.argmax(p))]}
        for n, p in zip(names, probs, strict=True)
    ]
    fallbacks = [
        {"name": n, "reason": describe_missing(features, i, mask, flags)}
        for i, (n, ok) in enumerate(zip(names, has_any, strict=True))
        if not ok
    ]
    predictions = table_from_rows(rows, predictions_schema(labels))
    predicted = predictions.column("name").to_pylist()
    if len(predicted) != len(set(predicted)) or set(predicted) != set(names):
        raise AssertionError("predictions must hold each unlabelled clip exactly once")
    return PredictionRun(predictions, table_from_rows(fallbacks, FALLBACKS))
