"""Offline MER-OV prediction baselines: Empty, Random (one of the six labels, seeded) and
the fusion model's labels above a probability threshold."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..labels import LABELS, PROB_COLUMNS
from .openset import OpenSetError

OFFLINE_METHODS = ("empty", "random", "fusion")


def predict_empty(names: Iterable[str]) -> dict[str, list[str]]:
    """The Empty baseline: no word for any clip (scores 0 by definition)."""
    return {n: [] for n in names}


def predict_random(names: Iterable[str], seed: int) -> dict[str, list[str]]:
    """The Random baseline: one of the six MER2024 labels per clip, seeded."""
    rng = np.random.default_rng(seed)
    return {n: [LABELS[int(rng.integers(len(LABELS)))]] for n in sorted(names)}


def predict_fusion(probs: pd.DataFrame, threshold: float) -> dict[str, list[str]]:
    """Every label whose fusion probability is >= ``threshold`` (most probable first);
    the most probable label always (so no clip is left empty)."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"fusion threshold must be in [0, 1], got {threshold}")
    missing = [c for c in ("name", *PROB_COLUMNS) if c not in probs.columns]
    if missing:
        raise OpenSetError(f"fusion predictions lack the columns {missing}")
    out = {}
    p = probs[list(PROB_COLUMNS)].to_numpy(dtype=np.float64)
    for name, row in zip(probs["name"], p, strict=True):
        order = np.argsort(-row, kind="stable")
        out[name] = [LABELS[i] for i in order if row[i] >= threshold or i == order[0]]
    return out
