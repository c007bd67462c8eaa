"""Per-feature standardisation (z-score) fitted on a model's training rows.

Each feature is standardised with the mean and std of the training clips that have it;
a missing feature's input is set to zero after scaling. The statistics are stored with
each fold's model in the checkpoint and applied again at prediction. With
``fusion.scaling: none`` (the reference) the statistics are the identity (mean 0, std 1),
so checkpoints and prediction are unchanged.
"""

from __future__ import annotations

import numpy as np
import torch


def fit_standardiser(
    x: np.ndarray, present: np.ndarray, scaling: str = "zscore"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the rows that have the feature (``scaling="zscore"``), or the
    identity, mean 0 and std 1 (``"none"``: the reference's raw features, whose
    BatchNorm line in MERTools' encoder is commented out)."""
    if scaling == "none":
        return np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    if scaling != "zscore":
        raise ValueError(f"scaling must be zscore or none, got {scaling!r}")
    rows = x[present].astype(np.float64)
    if len(rows) == 0:
        return np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    std[std < 1e-8] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def standardise(
    x: np.ndarray, present: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> torch.Tensor:
    z = (x - mean) / std
    z[~present] = 0.0
    return torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
