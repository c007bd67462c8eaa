"""Semi-supervised self-training on the unlabelled pool (what the MER2024 winners added).

Starting from the supervised model (the K fold models of ``train_fusion``), each round:

1. predicts every unlabelled clip that has a feature with the current K-fold ensemble;
2. keeps the clips whose top probability is at least ``threshold`` as pseudo-labelled;
3. cross-validates again on the **same folds with the same seeds**, the pseudo-labelled
   clips added to every training fold and never to a validation fold (with noise
   augmentation, the noisy copies of each fold's training clips join as in supervised
   training).

Pseudo-labels are recomputed from scratch each round by the latest models (not
accumulated). Because the validation folds and seeds are the supervised run's, each
round's validation WAF/accuracy stands beside the supervised one on equal terms (the
unlabelled pool's own labels are never read).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..labels import LABELS
from ..metrics import summarise
from ..schemas import MANIFEST, read_table
from .dataset import ExtraRows, FeatureSources, load_labelled, usable_features
from .params import FusionParams
from .prediction import PredictionRun, predict, predict_manifest
from .training import cross_validate

log = logging.getLogger(__name__)


@dataclass
class SelfTrainingRun:
    record: dict  # rounds (0 = supervised), threshold, per-round scores and pseudo-labels
    checkpoint: dict  # the last round's K fold models
    predictions: PredictionRun  # the unlabelled pool, from the last round's models


def _round_record(round_: int, folds: Sequence[Mapping], pseudo: np.ndarray | None) -> dict:
    summary = summarise(folds)
    counts = np.bincount(pseudo, minlength=len(LABELS)) if pseudo is not None else None
    return {
        "round": round_,
        "n_pseudo": 0 if pseudo is None else int(len(pseudo)),
        "pseudo_per_class": {}
        if counts is None
        else {label: int(c) for label, c in zip(LABELS, counts, strict=True)},
        "waf": summary["waf"],
        "acc": summary["acc"],
        "std": summary["std"],
        "folds": [dict(f) for f in folds],
    }


def self_train(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    supervised: Mapping,
    supervised_folds: Sequence[Mapping],
    threshold: float,
    rounds: int,
) -> SelfTrainingRun:
    """Self-train from the supervised checkpoint; see the module docstring.

    ``supervised_folds`` are the supervised run's per-fold scores (round 0).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"self-training threshold must be in (0, 1], got {threshold}")
    if rounds < 1:
        raise ValueError(f"self-training needs at least one round, got {rounds}")
    features = list(supervised["features"])
    params = FusionParams(**supervised["params"])
    seed_offset = int(supervised.get("seed_offset", 0))
    sources = FeatureSources.of(sources)
    data = load_labelled(manifest_path, sources, features)
    manifest = read_table(manifest_path, MANIFEST).to_pandas()
    pool = manifest.loc[manifest["split"] == "unlabeled", "name"].tolist()
    X_pool, mask_pool, flags = sources.load(pool, features)
    if pool:
        usable = np.flatnonzero(usable_features(mask_pool, flags))
    else:
        usable = np.zeros(0, dtype=np.int64)
    X_pool = {f: X_pool[f][usable] for f in features}
    mask_pool = {f: mask_pool[f][usable] for f in features}

    record = {
        "threshold": float(threshold),
        "rounds": [_round_record(0, supervised_folds, None)],
        "pool": len(pool),
        "pool_with_features": int(len(usable)),
        "noisy_copies": data.n_noisy,
    }
    checkpoint = dict(supervised)
    for r in range(1, rounds + 1):
        probs = predict(checkpoint, X_pool, mask_pool) if len(usable) else np.zeros((0, 6))
        confident = np.flatnonzero(probs.max(axis=1) >= threshold)
        pseudo = probs[confident].argmax(axis=1)
        pseudo_rows = ExtraRows(
            X={f: X_pool[f][confident] for f in features},
            mask={f: mask_pool[f][confident] for f in features},
            y=pseudo,
        )
        extra = ExtraRows.concat([data.noisy, pseudo_rows])
        cv = cross_validate(
            data.X, data.mask, data.labels, params, extra=extra, seed_offset=seed_offset
        )
        record["rounds"].append(_round_record(r, cv.folds, pseudo))
        checkpoint = cv.checkpoint
        log.info(
            "round %d: %d of %d pool clips pseudo-labelled (p >= %.2f): WAF %.4f, acc %.4f",
            r,
            len(confident),
            len(usable),
            threshold,
            record["rounds"][-1]["waf"],
            record["rounds"][-1]["acc"],
        )
    return SelfTrainingRun(record, checkpoint, predict_manifest(manifest_path, checkpoint, sources))
