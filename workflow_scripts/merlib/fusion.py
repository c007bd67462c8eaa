"""Attention fusion of clip-level features, cross-validated training and prediction.

The model is the MER2024 baseline's ``attention`` model (MERTools,
``toolkit/models/attention.py``), generalised from its three fixed modalities to any
number of features:

* each feature ``f`` has an encoder: ``Dropout(p)`` on the input, then three
  ``Linear + ReLU`` layers of width ``hidden_dim`` -> hidden vector ``h_f``;
* the attention head passes the concatenation ``[h_1, ..., h_F]`` through the same kind of
  encoder (dropout, 3 x ``Linear + ReLU``) and a ``Linear(hidden_dim, F)``: one weight
  ``a_f`` per feature;
* the fused vector is the weighted sum ``sum_f a_f h_f`` and a ``Linear(hidden_dim, 6)``
  gives the emotion logits; the loss is the NLL of their log-softmax.

**Attention weights.** The reference uses the raw output of ``fc_att`` as weights, with
no softmax (weights may be negative and need not sum to one). That is merflow's default,
``attention="raw"``; ``attention="softmax"`` normalises them over the features present.
The reference's second head (valence regression) is left out: MER2024 scores only the
discrete labels.

**Missing features (merflow's extension).** The reference assumes every clip has every
feature. Here every clip comes with a presence mask, one flag per feature (a clip may
have no face, no speech...). A missing feature's input is replaced by zeros before its
encoder and its hidden vector is set to zero, so neither the attention head nor the
fused vector depends on the values stored for it; its weight is reported as 0, and in
softmax mode it is excluded before the softmax. A clip with no feature at all gets the
training class prior from :func:`predict` and is left out of training by the callers; so
does a clip whose only vectors are flagged by the features stage (an empty
transcription's zero vector: :func:`usable_features`), though beside real features a
flagged vector is fed to the model as the reference feeds it.

**Noise augmentation.** Noisy copies of labelled clips join training as
:class:`ExtraRows` with a ``source``: a copy trains only in the folds that train on its
clean clip and is never validated on (:func:`fold_extra_rows`).

**Training protocol** (MERTools' defaults): Adam (lr 1e-3, weight decay 1e-5), batches
of 32, 100 epochs, stratified K-fold cross-validation; in each fold the state of the
epoch with the best WAF on the held-out fold is kept. Out-of-fold (OOF) predictions come
from those kept models, so the OOF scores are slightly optimistic (the epoch was chosen
on the same clips), exactly as the reference reports them. Unlabelled clips are
predicted by averaging the K kept models' logits, then a softmax. Each feature is
standardised with the mean and std of the clips of the training fold that have it
(stored with the fold's model).

**How folds train.** :func:`cross_validate` trains the K folds together as one stacked
model (:mod:`merlib.stacked`: one ``baddbmm`` per layer over all folds, Adam on one
parameter buffer), fold ``k`` initialised as ``AttentionFusion`` under seed
``seed + seed_offset + k`` and drawing batch orders and dropout masks from its own
``torch.Generator``. :func:`train_fold` is the straightforward one-``nn.Module``-per-fold
loop with the same protocol, kept as the reference that ``bench/search_timing.py``
compares against.

**Determinism.** On CPU, the same data, parameters and seed give bit-identical results
(same thread count assumed: float reductions may change with it), with
``torch.use_deterministic_algorithms(True)`` while training and the caller's RNG state
left alone.

**Checkpoint.** :func:`cross_validate` returns a dict of plain Python values and tensors
(:func:`save_checkpoint` / :func:`load_checkpoint`, loadable with
``torch.load(path, weights_only=True)``)::

    {"format": "merflow-attention-fusion", "version": 1,
     "labels": [6 label strings], "features": [names], "dims": [ints],
     "params": {FusionParams fields}, "class_prior": float64 tensor (6,),
     "folds": [{"fold": int, "best_epoch": int, "waf": float, "acc": float,
                "mean": {feature: float32 tensor (dim,)}, "std": {...},
                "state_dict": {parameter name: tensor}}, ...]}
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold
from torch import nn

from . import metrics
from .labels import LABELS, PROB_COLUMNS, label_index
from .tables import (
    FALLBACKS,
    FEATURE_FLAGS,
    MANIFEST,
    OOF_PREDICTIONS,
    PREDICTIONS,
    read_features,
    read_table,
    table_from_rows,
)

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "merflow-attention-fusion"
CHECKPOINT_VERSION = 1
ATTENTION_MODES = ("raw", "softmax")
NO_FEATURE_REASON = "no feature available"


class FeatureTableError(ValueError):
    """Feature shards that do not fit together (dimensions, duplicate or bad rows)."""


class CheckpointError(ValueError):
    """A checkpoint that is not a merflow fusion model, or does not fit the features given."""


# --- parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class FusionParams:
    """Hyperparameters of the attention fusion and its cross-validation (MERTools defaults)."""

    hidden_dim: int = 128
    dropout: float = 0.3
    lr: float = 1e-3
    weight_decay: float = 1e-5
    epochs: int = 100
    batch_size: int = 32
    folds: int = 5
    attention: str = "raw"  # "raw" (reference: no softmax) or "softmax"
    seed: int = 2024

    def __post_init__(self) -> None:
        if self.attention not in ATTENTION_MODES:
            raise ValueError(
                f"attention must be one of {', '.join(ATTENTION_MODES)}, got {self.attention!r}"
            )
        for name in ("hidden_dim", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if int(self.folds) < 2:
            raise ValueError(f"folds must be >= 2, got {self.folds}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def from_config(cls, config: Mapping, seed: int | None = None) -> FusionParams:
        """Build from a config mapping (e.g. ``config["fusion"]``); ``seed`` overrides.

        The key ``features`` (the feature list, which lives in the same config section)
        is ignored; any other unknown key raises, naming it.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in dict(config).items() if k != "features"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown fusion parameter(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        if seed is not None:
            values["seed"] = seed
        types = {"hidden_dim": int, "epochs": int, "batch_size": int, "folds": int, "seed": int}
        types |= {"dropout": float, "lr": float, "weight_decay": float, "attention": str}
        return cls(**{k: types[k](v) for k, v in values.items()})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- the model ---------------------------------------------------------------------------


def mlp_encoder(in_dim: int, hidden_dim: int, dropout: float) -> nn.Sequential:
    """MERTools' ``MLPEncoder``: dropout on the input, then 3 x (Linear + ReLU)."""
    return nn.Sequential(
        nn.Dropout(p=dropout),
        nn.Linear(in_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, hidden_dim),
        nn.ReLU(),
    )


@dataclass
class FusionOutput:
    """Everything :meth:`AttentionFusion.parts` computes for one batch."""

    hidden: torch.Tensor  # (B, F, H) per-feature hidden vectors, 0 for missing features
    weights: torch.Tensor  # (B, F) attention weights, 0 for missing features
    fused: torch.Tensor  # (B, H) sum_f weights[:, f] * hidden[:, f]
    logits: torch.Tensor  # (B, n_classes)


class AttentionFusion(nn.Module):
    """Attention fusion of ``len(dims)`` features (see the module docstring)."""

    def __init__(
        self,
        dims: Sequence[int],
        hidden_dim: int = 128,
        dropout: float = 0.3,
        attention: str = "raw",
        n_classes: int = len(LABELS),
    ) -> None:
        super().__init__()
        if not dims:
            raise ValueError("attention fusion needs at least one feature")
        if attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {attention!r}")
        self.dims = [int(d) for d in dims]
        self.attention = attention
        self.encoders = nn.ModuleList(mlp_encoder(d, hidden_dim, dropout) for d in self.dims)
        self.attention_mlp = mlp_encoder(hidden_dim * len(self.dims), hidden_dim, dropout)
        self.fc_att = nn.Linear(hidden_dim, len(self.dims))
        self.fc_out = nn.Linear(hidden_dim, n_classes)

    def parts(self, xs: Sequence[torch.Tensor], mask: torch.Tensor) -> FusionOutput:
        """Forward pass with intermediate results; ``xs[f]`` is (B, dims[f]), mask (B, F)."""
        if len(xs) != len(self.encoders):
            raise ValueError(f"expected {len(self.encoders)} feature inputs, got {len(xs)}")
        mask = mask.to(torch.bool)
        hidden = []
        for f, (encoder, x) in enumerate(zip(self.encoders, xs, strict=True)):
            present = mask[:, f : f + 1]
            x = torch.where(present, x, torch.zeros((), dtype=x.dtype))
            h = encoder(x)
            hidden.append(torch.where(present, h, torch.zeros((), dtype=h.dtype)))
        stacked = torch.stack(hidden, dim=1)  # (B, F, H)
        scores = self.fc_att(self.attention_mlp(torch.cat(hidden, dim=1)))  # (B, F)
        if self.attention == "softmax":
            # Finite fill (not -inf): a clip with no feature gets uniform weights (then
            # zeroed below) instead of NaNs whose gradients would poison the batch.
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            scores = torch.softmax(scores, dim=1)
        weights = torch.where(mask, scores, torch.zeros((), dtype=scores.dtype))
        fused = torch.einsum("bf,bfh->bh", weights, stacked)
        return FusionOutput(stacked, weights, fused, self.fc_out(fused))

    def forward(self, xs: Sequence[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        return self.parts(xs, mask).logits


# --- data --------------------------------------------------------------------------------


def load_feature_matrix(
    feature_paths: Mapping[str, Sequence[str | os.PathLike]], names: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read every shard of every feature into arrays aligned to ``names``.

    Returns ``(X, mask)``: per feature an ``(n, dim)`` float32 array (zeros where the clip
    has no row) and an ``(n,)`` bool presence mask. Rows of clips not in ``names`` are
    ignored. Raises :class:`FeatureTableError` when a feature's shards disagree on the
    dimension, a clip appears twice, or an embedding holds a non-finite value.
    """
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise ValueError("names must be unique")
    X: dict[str, np.ndarray] = {}
    mask: dict[str, np.ndarray] = {}
    for feature, paths in feature_paths.items():
        if not paths:
            raise FeatureTableError(f"feature {feature!r}: no shard files given")
        dim = None
        first = None
        values = None
        present = np.zeros(len(names), dtype=bool)
        for path in paths:
            table = read_features(path)
            d = table.schema.field("embedding").type.list_size
            if dim is None:
                dim, first = d, path
                values = np.zeros((len(names), dim), dtype=np.float32)
            elif d != dim:
                raise FeatureTableError(
                    f"feature {feature!r}: {path} has dimension {d} but {first} has {dim}"
                )
            rows = [index.get(n, -1) for n in table.column("name").to_pylist()]
            rows = np.asarray(rows, dtype=np.int64)
            keep = rows >= 0
            if not keep.any():
                continue
            emb = table.column("embedding").combine_chunks().flatten()
            emb = emb.to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, dim)
            rows, emb = rows[keep], emb[keep]
            seen = present[rows] | (np.bincount(rows, minlength=len(names))[rows] > 1)
            if seen.any():
                raise FeatureTableError(
                    f"feature {feature!r}: clip {names[rows[seen][0]]!r} appears more than "
                    f"once (again in {path})"
                )
            bad = ~np.isfinite(emb).all(axis=1)
            if bad.any():
                raise FeatureTableError(
                    f"feature {feature!r}: {path} holds non-finite values for clip "
                    f"{names[rows[bad][0]]!r} ({int(bad.sum())} clips in that file)"
                )
            values[rows] = emb
            present[rows] = True
        X[feature] = values
        mask[feature] = present
    return X, mask


def load_feature_flags(
    flag_paths: Mapping[str, Sequence[str | os.PathLike]] | None, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per feature of ``flag_paths`` an ``(n,)`` object array aligned to ``names``: the
    flag(s) the features stage recorded for each clip (``FEATURE_FLAGS``, e.g.
    ``empty_transcription``; several joined by ``+``), None where there is none."""
    index = {n: i for i, n in enumerate(names)}
    flags: dict[str, np.ndarray] = {}
    for feature, paths in (flag_paths or {}).items():
        column = np.full(len(names), None, dtype=object)
        for path in paths:
            for row in read_table(path, FEATURE_FLAGS).to_pylist():
                i = index.get(row["name"])
                if i is not None:
                    old = column[i]
                    column[i] = row["flag"] if old is None else f"{old}+{row['flag']}"
        flags[feature] = column
    return flags


def usable_features(
    mask: Mapping[str, np.ndarray], flags: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """(n,) bool: whether each clip has at least one feature that is present and not
    flagged. A flagged vector (a zero text vector for an empty transcription) is still fed
    to the model, as the reference does, but cannot on its own make a clip usable: a clip
    with nothing else is left out of training and predicted from the class prior."""
    flags = flags or {}
    usable = []
    for f in mask:
        present = np.asarray(mask[f], dtype=bool)
        if f in flags:
            present = present & np.array([v is None for v in flags[f]], dtype=bool)
        usable.append(present)
    return np.stack(usable, axis=1).any(axis=1)


def _describe_missing(
    features: Sequence[str],
    i: int,
    mask: Mapping[str, np.ndarray],
    flags: Mapping[str, np.ndarray] | None = None,
) -> str:
    """Why clip ``i`` has no usable feature: the features it lacks and those flagged."""
    flags = flags or {}
    missing = [f for f in features if not mask[f][i]]
    flagged = [f"{f} {flags[f][i]}" for f in features if mask[f][i] and f in flags]
    parts = [f"missing: {', '.join(missing)}"] if missing else []
    parts += [f"flagged: {', '.join(flagged)}"] if flagged else []
    return f"{NO_FEATURE_REASON} ({'; '.join(parts)})"


def _stack_mask(mask: Mapping[str, np.ndarray], features: Sequence[str]) -> np.ndarray:
    return np.stack([np.asarray(mask[f], dtype=bool) for f in features], axis=1)


def _fit_standardiser(x: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = x[present].astype(np.float64)
    if len(rows) == 0:
        return np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    std[std < 1e-8] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def _standardise(
    x: np.ndarray, present: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> torch.Tensor:
    z = (x - mean) / std
    z[~present] = 0.0
    return torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))


# --- training ----------------------------------------------------------------------------


@contextlib.contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    """Seeded, deterministic torch, restoring the caller's RNG and determinism settings."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


@dataclass
class FoldResult:
    fold: int
    val_idx: np.ndarray
    val_logits: np.ndarray  # (n_val, 6) float64, from the kept model
    best_epoch: int
    waf: float
    acc: float
    state: dict  # checkpoint entry: state_dict, normalisation stats, scores
    seconds: float = 0.0


def _logits(model: AttentionFusion, Z: Sequence[torch.Tensor], M: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(Z, M).double().numpy()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _argmax(logits: np.ndarray) -> np.ndarray:
    """Predicted class indices, taken on the probabilities as the OOF table stores them."""
    return softmax(logits).argmax(axis=1)


def train_fold(
    X: Mapping[str, np.ndarray],
    mask: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    params: FusionParams,
    fold: int,
) -> FoldResult:
    """Train one fold and keep the epoch with the best validation WAF.

    ``X`` maps feature name -> (n, dim) float32 (key order = model order), ``mask`` is
    (n, F) bool in the same order, ``y`` (n,) label indices. The result depends only on
    the arguments (the fold seeds its own RNG with
    ``params.seed + fold``), so folds may run in any order or in parallel.
    """
    start = time.perf_counter()
    features = list(X)
    arrays = [X[f] for f in features]
    stats = [_fit_standardiser(a[train_idx], mask[train_idx, i]) for i, a in enumerate(arrays)]
    Z = [_standardise(a, mask[:, i], *stats[i]) for i, a in enumerate(arrays)]
    M = torch.from_numpy(np.ascontiguousarray(mask))
    Y = torch.from_numpy(np.asarray(y, dtype=np.int64))
    train_t = torch.from_numpy(np.asarray(train_idx, dtype=np.int64))
    Z_val = [z[val_idx] for z in Z]
    M_val = M[val_idx]
    y_val = np.asarray(y, dtype=np.int64)[val_idx]

    with _deterministic(params.seed + fold):
        generator = torch.Generator().manual_seed(params.seed + fold)
        model = AttentionFusion(
            [a.shape[1] for a in arrays], params.hidden_dim, params.dropout, params.attention
        )
        optimiser = torch.optim.Adam(
            model.parameters(), lr=params.lr, weight_decay=params.weight_decay, foreach=True
        )
        best = (-1.0, 0, None, None)  # waf, epoch, state_dict, logits
        for epoch in range(1, params.epochs + 1):
            model.train()
            order = train_t[torch.randperm(len(train_t), generator=generator)]
            for b in torch.split(order, params.batch_size):
                logits = model([z[b] for z in Z], M[b])
                loss = F.nll_loss(F.log_softmax(logits, dim=1), Y[b])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            val_logits = _logits(model, Z_val, M_val)
            score = metrics.waf_indices(y_val, _argmax(val_logits))
            if score > best[0]:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = (score, epoch, state, val_logits)

    best_waf, best_epoch, state_dict, val_logits = best
    acc = float(np.mean(y_val == _argmax(val_logits)))
    state = {
        "fold": int(fold),
        "best_epoch": int(best_epoch),
        "waf": float(best_waf),
        "acc": float(acc),
        "mean": {f: torch.from_numpy(m) for f, (m, _) in zip(features, stats, strict=True)},
        "std": {f: torch.from_numpy(s) for f, (_, s) in zip(features, stats, strict=True)},
        "state_dict": state_dict,
    }
    return FoldResult(
        fold=fold,
        val_idx=np.asarray(val_idx),
        val_logits=val_logits,
        best_epoch=best_epoch,
        waf=float(best_waf),
        acc=float(acc),
        state=state,
        seconds=time.perf_counter() - start,
    )


@dataclass
class CVResult:
    """Result of :func:`cross_validate`."""

    oof_probs: np.ndarray  # (n, 6) float64, each clip predicted by its fold's kept model
    fold: np.ndarray  # (n,) int32, the fold each clip was held out in
    folds: list[dict] = field(default_factory=list)  # per fold: fold, waf, acc, best_epoch, ...
    checkpoint: dict = field(default_factory=dict)

    @property
    def oof_labels(self) -> list[str]:
        return [LABELS[i] for i in self.oof_probs.argmax(axis=1)]


def cv_splits(y_idx: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified, seeded K-fold splits ``(train_idx, val_idx)`` every run uses."""
    n = len(y_idx)
    counts = np.bincount(y_idx, minlength=len(LABELS))
    present = {LABELS[i]: int(c) for i, c in enumerate(counts) if c}
    if min(present.values(), default=0) < folds:
        raise ValueError(
            f"{folds}-fold cross validation needs at least {folds} labelled clips "
            f"in every class present; found {present}. Lower fusion.folds or add clips."
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(n), y_idx))


def _check_inputs(
    X: Mapping[str, np.ndarray], mask: Mapping[str, np.ndarray], n: int
) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    features = list(X)
    if not features:
        raise ValueError("cross_validate needs at least one feature")
    if set(mask) != set(features):
        raise ValueError(f"mask features {sorted(mask)} differ from X features {features}")
    arrays = {f: np.asarray(X[f], dtype=np.float32) for f in features}
    for f, a in arrays.items():
        if a.ndim != 2 or a.shape[0] != n:
            raise ValueError(f"feature {f!r}: expected shape ({n}, dim), got {a.shape}")
    M = _stack_mask(mask, features)
    if M.shape[0] != n:
        raise ValueError(f"mask has {M.shape[0]} rows, expected {n}")
    return features, arrays, M


NO_SOURCE = -1


@dataclass
class ExtraRows:
    """Rows added to training folds, never to validation.

    A row without a source (``source`` None, or ``NO_SOURCE`` for that row, e.g. a
    pseudo-labelled pool clip) joins every training fold. A row copied from labelled clip
    ``source[j]`` (its noisy copy, for noise augmentation) joins exactly the training folds
    that hold that clip, so a clip and its copy are always on the same side of a split.
    """

    X: Mapping[str, np.ndarray]
    mask: Mapping[str, np.ndarray]
    y: np.ndarray  # (n_extra,) label indices
    source: np.ndarray | None = None  # (n_extra,) labelled-clip index, or NO_SOURCE

    def __len__(self) -> int:
        return len(self.y)

    def sources(self) -> np.ndarray:
        if self.source is None:
            return np.full(len(self.y), NO_SOURCE, dtype=np.int64)
        source = np.asarray(self.source, dtype=np.int64)
        if source.shape != (len(self.y),):
            raise ValueError(f"source has shape {source.shape}, expected ({len(self.y)},)")
        return source

    @classmethod
    def concat(cls, parts: Sequence[ExtraRows | None]) -> ExtraRows | None:
        """One ExtraRows from several (None and empty parts skipped; None if nothing)."""
        parts = [p for p in parts if p is not None and len(p)]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        features = list(parts[0].X)
        return cls(
            X={f: np.concatenate([np.asarray(p.X[f]) for p in parts]) for f in features},
            mask={f: np.concatenate([np.asarray(p.mask[f]) for p in parts]) for f in features},
            y=np.concatenate([np.asarray(p.y, dtype=np.int64) for p in parts]),
            source=np.concatenate([p.sources() for p in parts]),
        )


def fold_extra_rows(train_idx: np.ndarray, sources: np.ndarray, n: int) -> np.ndarray:
    """Row numbers (counted after the ``n`` labelled rows) of the extra rows that join a
    training fold holding ``train_idx``: those without a source and those whose source
    clip is in ``train_idx``."""
    sources = np.asarray(sources, dtype=np.int64)
    bad = (sources != NO_SOURCE) & ((sources < 0) | (sources >= n))
    if bad.any():
        raise ValueError(f"extra row source {int(sources[bad][0])} is not a labelled clip (n={n})")
    joins = (sources == NO_SOURCE) | np.isin(sources, train_idx)
    return n + np.flatnonzero(joins)


def cross_validate(
    X: Mapping[str, np.ndarray],
    mask: Mapping[str, np.ndarray],
    y: Sequence[str],
    params: FusionParams,
    extra: ExtraRows | None = None,
    seed_offset: int = 0,
) -> CVResult:
    """Stratified K-fold training of the attention fusion on labelled clips.

    ``X`` maps feature name -> (n, dim) array (its key order is the model's feature
    order), ``mask`` feature name -> (n,) bool presence, ``y`` the n label strings.
    Clips with no feature at all should be left out by the caller (they would train on
    nothing but the output bias). The K folds train together as one stacked model
    (:func:`merlib.stacked.train_stacked`; fold ``k`` is initialised with seed
    ``params.seed + seed_offset + k``; the folds depend on ``params.seed`` only).
    ``extra`` rows join training folds, never a validation fold (a copied row only the
    folds that train on its source clip: :class:`ExtraRows`), so scores stay comparable
    with a run without them (same folds, same seed, validation on the same clips).
    """
    from .stacked import ModelSpec, train_stacked

    y_idx = np.array([label_index(v) for v in y], dtype=np.int64)
    n = len(y_idx)
    features, arrays, M = _check_inputs(X, mask, n)
    splits = cv_splits(y_idx, params.folds, params.seed)
    all_arrays, all_mask, all_y = list(arrays.values()), M, y_idx
    sources = np.zeros(0, dtype=np.int64)
    if extra is not None and len(extra.y):
        _, extra_arrays, extra_mask = _check_inputs(
            {f: extra.X[f] for f in features}, {f: extra.mask[f] for f in features}, len(extra.y)
        )
        all_arrays = [np.concatenate([arrays[f], extra_arrays[f]]) for f in features]
        all_mask = np.concatenate([M, extra_mask])
        all_y = np.concatenate([y_idx, np.asarray(extra.y, dtype=np.int64)])
        sources = extra.sources()
    extra_rows = [fold_extra_rows(train_idx, sources, n) for train_idx, _ in splits]
    specs = [
        ModelSpec(
            train_idx=np.concatenate([train_idx, extra_rows[fold]]),
            val_idx=val_idx,
            dropout=params.dropout,
            lr=params.lr,
            seed=params.seed + seed_offset + fold,
        )
        for fold, (train_idx, val_idx) in enumerate(splits)
    ]
    start = time.perf_counter()
    trained = train_stacked(
        all_arrays,
        all_mask,
        all_y,
        specs,
        hidden_dim=params.hidden_dim,
        attention=params.attention,
        epochs=params.epochs,
        batch_size=params.batch_size,
        weight_decay=params.weight_decay,
    )
    seconds = time.perf_counter() - start
    logits = np.zeros((n, len(LABELS)), dtype=np.float64)
    fold_of = np.full(n, -1, dtype=np.int32)
    states, folds = [], []
    for fold, ((train_idx, val_idx), r) in enumerate(zip(splits, trained, strict=True)):
        logits[val_idx] = r.val_logits
        fold_of[val_idx] = fold
        log.info(
            "fold %d: best epoch %d, WAF %.4f, accuracy %.4f (%d train + %d extra, %d val)",
            fold,
            r.best_epoch,
            r.waf,
            r.acc,
            len(train_idx),
            len(extra_rows[fold]),
            len(val_idx),
        )
        states.append(
            {
                "fold": fold,
                "best_epoch": r.best_epoch,
                "waf": r.waf,
                "acc": r.acc,
                "mean": {f: torch.from_numpy(m) for f, m in zip(features, r.mean, strict=True)},
                "std": {f: torch.from_numpy(s) for f, s in zip(features, r.std, strict=True)},
                "state_dict": r.state_dict,
            }
        )
        folds.append(
            {
                "fold": fold,
                "waf": r.waf,
                "acc": r.acc,
                "best_epoch": r.best_epoch,
                "n_train": len(train_idx) + len(extra_rows[fold]),
                "n_extra": len(extra_rows[fold]),
                "n_val": len(val_idx),
                "seconds": round(seconds / len(splits), 3),
            }
        )
    prior = np.bincount(y_idx, minlength=len(LABELS)).astype(np.float64) / n
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "labels": list(LABELS),
        "features": features,
        "dims": [int(a.shape[1]) for a in arrays.values()],
        "params": params.as_dict(),
        "seed_offset": int(seed_offset),
        "class_prior": torch.from_numpy(prior),
        "folds": states,
    }
    return CVResult(oof_probs=softmax(logits), fold=fold_of, folds=folds, checkpoint=checkpoint)


# --- checkpoint and prediction -----------------------------------------------------------


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> None:
    """``torch.save`` the checkpoint atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint with ``weights_only=True`` and check it is a fusion model."""
    checkpoint = torch.load(path, weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a merflow attention-fusion checkpoint")
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {checkpoint.get('version')}, "
            f"this merflow reads version {CHECKPOINT_VERSION}"
        )
    if list(checkpoint["labels"]) != list(LABELS):
        raise CheckpointError(f"{path}: label order {checkpoint['labels']} is not {LABELS}")
    return checkpoint


def predict(
    checkpoint: Mapping, X: Mapping[str, np.ndarray], mask: Mapping[str, np.ndarray]
) -> np.ndarray:
    """(n, 6) float64 probabilities: softmax of the mean of the K fold models' logits.

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
    M = _stack_mask(mask, features)
    params = FusionParams(**checkpoint["params"])
    total = np.zeros((M.shape[0], len(LABELS)), dtype=np.float64)
    for entry in checkpoint["folds"]:
        model = AttentionFusion(
            checkpoint["dims"], params.hidden_dim, params.dropout, params.attention
        )
        model.load_state_dict(entry["state_dict"])
        Z = [
            _standardise(a, M[:, i], entry["mean"][f].numpy(), entry["std"][f].numpy())
            for i, (f, a) in enumerate(zip(features, arrays, strict=True))
        ]
        total += _logits(model, Z, torch.from_numpy(np.ascontiguousarray(M)))
    probs = softmax(total / len(checkpoint["folds"]))
    none = ~M.any(axis=1)
    probs[none] = checkpoint["class_prior"].numpy().astype(np.float64)
    return probs


# --- the workflow's steps ----------------------------------------------------------------


@dataclass
class TrainingRun:
    cv: CVResult
    oof: pa.Table  # OOF_PREDICTIONS
    excluded: list[dict]  # {"name", "reason"} per labelled clip left out
    record: dict  # the folds JSON: features, params, folds, excluded


@dataclass
class LabelledSet:
    """The labelled clips that have at least one of the features, with their arrays."""

    names: list[str]
    labels: list[str]
    X: dict[str, np.ndarray]
    mask: dict[str, np.ndarray]
    excluded: list[dict]  # {"name", "reason"} per labelled clip left out
    noisy: ExtraRows | None = None  # noisy copies of these clips (noise augmentation)

    @property
    def n_noisy(self) -> int:
        return 0 if self.noisy is None else len(self.noisy)


Files = Mapping[str, Sequence[str]]  # feature name -> its shard files


@dataclass(frozen=True)
class FeatureSources:
    """Where fusion reads its features from: per feature its shard files (``files``) and
    the flags tables that go with them (``flags``: :func:`usable_features`); for noise
    augmentation, the same two for the labelled clips' noisy copy (``noisy_files``,
    ``noisy_flags``; empty: no augmentation). The rules pass them as the params
    ``feature_files``, ``flag_files``, ``noisy_files`` and ``noisy_flag_files``.
    """

    files: Files
    flags: Files = field(default_factory=dict)
    noisy_files: Files = field(default_factory=dict)
    noisy_flags: Files = field(default_factory=dict)

    @classmethod
    def of(cls, sources: FeatureSources | Files) -> FeatureSources:
        """``sources`` itself, or a plain ``feature -> shard files`` mapping (no flags)."""
        return sources if isinstance(sources, cls) else cls(dict(sources))

    @classmethod
    def from_params(cls, params) -> FeatureSources:
        """From a Snakemake rule's params (``feature_files`` and the optional others)."""

        def get(key: str) -> dict:
            return dict(getattr(params, key, None) or {})

        return cls(
            get("feature_files"), get("flag_files"), get("noisy_files"), get("noisy_flag_files")
        )

    @property
    def noisy(self) -> FeatureSources | None:
        """The noisy copy's sources, None without augmentation."""
        return FeatureSources(self.noisy_files, self.noisy_flags) if self.noisy_files else None

    def load(
        self, names: Sequence[str], features: Sequence[str]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(X, mask, flags)`` of ``features`` for ``names``: :func:`load_feature_matrix`
        and :func:`load_feature_flags`."""
        missing = [f for f in features if f not in self.files]
        if missing:
            raise ValueError(f"no shard files given for feature(s) {', '.join(missing)}")
        X, mask = load_feature_matrix({f: self.files[f] for f in features}, names)
        flags = load_feature_flags({f: self.flags[f] for f in features if f in self.flags}, names)
        return X, mask, flags


def load_labelled(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Files,
    features: Sequence[str],
) -> LabelledSet:
    """The manifest's labelled clips (split ``labeled``) and their features.

    Labelled clips without a usable feature among ``features`` (none present, or only
    flagged vectors, see :func:`usable_features`) are left out and listed in ``excluded``.
    With noise augmentation (``sources.noisy``: the features of a noisy copy of the
    labelled clips, same names), ``noisy`` holds one extra training row per kept clip whose
    copy has a usable feature, with that clip as its source (:class:`ExtraRows`).
    """
    sources = FeatureSources.of(sources)
    manifest = read_table(manifest_path, MANIFEST).to_pandas()
    labelled = manifest[(manifest["split"] == "labeled") & manifest["discrete"].notna()]
    if labelled.empty:
        raise ValueError(f"{manifest_path}: no labelled clips (split 'labeled' with a label)")
    names = labelled["name"].tolist()
    labels = labelled["discrete"].tolist()
    X, mask, flags = sources.load(names, features)
    has_any = usable_features(mask, flags)
    excluded = [
        {"name": n, "reason": _describe_missing(features, i, mask, flags)}
        for i, (n, ok) in enumerate(zip(names, has_any, strict=True))
        if not ok
    ]
    keep = np.flatnonzero(has_any)
    names = [names[i] for i in keep]
    labels = [labels[i] for i in keep]
    X = {f: X[f][keep] for f in features}
    mask = {f: mask[f][keep] for f in features}
    noisy = None
    if sources.noisy is not None:
        noisy = load_noisy_copies(names, labels, sources.noisy, features)
    for f in features:
        log.info(
            "feature %s: dim %d, present for %d of %d clips",
            f,
            X[f].shape[1],
            int(mask[f].sum()),
            len(names),
        )
    return LabelledSet(names, labels, X, mask, excluded, noisy)


def load_noisy_copies(
    names: Sequence[str],
    labels: Sequence[str],
    noisy: FeatureSources,
    features: Sequence[str],
) -> ExtraRows:
    """Training rows from the noisy copy (``noisy``: its feature and flags files) of the
    clips ``names`` (labels ``labels``): one per clip whose copy has a usable feature,
    ``source`` = the clip's index in ``names``."""
    X, mask, flags = noisy.load(names, features)
    keep = np.flatnonzero(usable_features(mask, flags)) if len(names) else np.zeros(0, int)
    log.info("noisy copies: %d of %d labelled clips have a usable feature", len(keep), len(names))
    return ExtraRows(
        X={f: X[f][keep] for f in features},
        mask={f: mask[f][keep] for f in features},
        y=np.array([label_index(labels[i]) for i in keep], dtype=np.int64),
        source=keep.astype(np.int64),
    )


def train_on_manifest(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Files,
    features: Sequence[str],
    params: FusionParams,
    seed_offset: int = 0,
) -> TrainingRun:
    """Cross-validate the fusion on the manifest's labelled clips (split ``labeled``).

    Labelled clips without a usable feature are left out and listed in ``excluded``
    (:func:`load_labelled`). ``seed_offset`` shifts the models' initialisation seeds (a
    search combination's). With noise augmentation (``sources.noisy``) each fold also
    trains on the noisy copies of its training clips; validation stays on the clean clips.
    """
    data = load_labelled(manifest_path, sources, features)
    cv = cross_validate(
        data.X, data.mask, data.labels, params, extra=data.noisy, seed_offset=seed_offset
    )
    return TrainingRun(
        cv, oof_table(data, cv), data.excluded, run_record(data, features, params, cv)
    )


def oof_table(data: LabelledSet, cv: CVResult) -> pa.Table:
    """The OOF_PREDICTIONS table of a cross-validation of ``data``."""
    rows = [
        {"name": n, "discrete": t, "predicted": p, "fold": int(k)}
        | dict(zip(PROB_COLUMNS, map(float, probs), strict=True))
        for n, t, p, k, probs in zip(
            data.names, data.labels, cv.oof_labels, cv.fold, cv.oof_probs, strict=True
        )
    ]
    return table_from_rows(rows, OOF_PREDICTIONS)


def run_record(
    data: LabelledSet, features: Sequence[str], params: FusionParams, cv: CVResult
) -> dict:
    """The folds JSON of a run: features, params, per-fold scores, excluded clips."""
    return {
        "features": list(features),
        "params": params.as_dict(),
        "seed_offset": int(cv.checkpoint["seed_offset"]),
        "n_clips": len(data.names),
        "noisy_copies": data.n_noisy,
        "folds": cv.folds,
        "excluded": data.excluded,
    }


@dataclass
class PredictionRun:
    predictions: pa.Table  # PREDICTIONS
    fallbacks: pa.Table  # FALLBACKS


def predict_manifest(
    manifest_path: str | os.PathLike,
    checkpoint: Mapping,
    sources: FeatureSources | Files,
) -> PredictionRun:
    """Predict every unlabelled clip of the manifest (split ``unlabeled``), exactly once.

    Clips without a usable feature among the model's (none present, or only flagged
    vectors) get the training class prior and a row in the fallbacks table.
    """
    sources = FeatureSources.of(sources)
    features = list(checkpoint["features"])
    missing = [f for f in features if f not in sources.files]
    if missing:
        raise ValueError(f"the model needs feature(s) {', '.join(missing)}: no files given")
    manifest = read_table(manifest_path, MANIFEST).to_pandas()
    names = manifest.loc[manifest["split"] == "unlabeled", "name"].tolist()
    X, mask, flags = sources.load(names, features)
    probs = predict(checkpoint, X, mask) if names else np.zeros((0, len(LABELS)))
    if names:
        has_any = usable_features(mask, flags)
        probs[~has_any] = checkpoint["class_prior"].numpy().astype(np.float64)
    else:
        has_any = np.zeros(0, dtype=bool)
    rows = [
        {"name": n}
        | dict(zip(PROB_COLUMNS, map(float, p), strict=True))
        | {"discrete": LABELS[int(np.argmax(p))]}
        for n, p in zip(names, probs, strict=True)
    ]
    fallbacks = [
        {"name": n, "reason": _describe_missing(features, i, mask, flags)}
        for i, (n, ok) in enumerate(zip(names, has_any, strict=True))
        if not ok
    ]
    predictions = table_from_rows(rows, PREDICTIONS)
    predicted = predictions.column("name").to_pylist()
    if len(predicted) != len(set(predicted)) or set(predicted) != set(names):
        raise AssertionError("predictions must hold each unlabelled clip exactly once")
    return PredictionRun(predictions, table_from_rows(fallbacks, FALLBACKS))


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
