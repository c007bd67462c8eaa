"""Cross-validated training of the attention fusion: folds, standardisation, kept epoch.

**Training protocol** (MERTools' defaults): Adam (lr 1e-3, weight decay 1e-5), batches
of 32, 100 epochs, stratified K-fold cross-validation; in each fold the state of the
epoch with the best WAF on the held-out fold is kept. Out-of-fold (OOF) predictions come
from those kept models, so the OOF scores are slightly optimistic (the epoch was chosen
on the same clips), exactly as the reference reports them. Each feature is standardised
with the mean and std of the clips of the training fold that have it
(:mod:`merlib.fusion.standardise`, stored with the fold's model). Clips with no usable
feature are left out of training by the callers (:func:`merlib.fusion.dataset.load_labelled`).

**How folds train.** :func:`cross_validate` trains the K folds together as one stacked
model (:mod:`merlib.fusion.stacked`), fold ``k`` initialised as ``AttentionFusion`` under
seed ``seed + seed_offset + k`` and drawing batch orders and dropout masks from its own
``torch.Generator``. :func:`train_fold` is the straightforward one-``nn.Module``-per-fold
loop with the same protocol, kept as the reference that ``bench/search_timing.py``
compares against.

**Noise augmentation.** Noisy copies of labelled clips join training as
:class:`~merlib.fusion.dataset.ExtraRows` with a ``source``: a copy trains only in the
folds that train on its clean clip and is never validated on (:func:`fold_extra_rows`).

**Determinism.** On CPU, the same data, parameters and seed give bit-identical results
(same thread count assumed: float reductions may change with it), with
``torch.use_deterministic_algorithms(True)`` while training and the caller's RNG state
left alone.

The checkpoint :func:`cross_validate` returns is described in
:mod:`merlib.fusion.prediction`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold

from .. import metrics
from ..labels import LABELS, PROB_COLUMNS, label_index
from ..progress import Progress
from ..schemas import OOF_PREDICTIONS, table_from_rows
from .dataset import (
    NO_SOURCE,
    ExtraRows,
    FeatureSources,
    Files,
    LabelledSet,
    load_labelled,
    stack_mask,
)
from .model import AttentionFusion, eval_logits, predicted_classes, softmax
from .params import FusionParams
from .prediction import CHECKPOINT_FORMAT, CHECKPOINT_VERSION
from .stacked import ModelSpec, StackedResult, train_stacked
from .standardise import fit_standardiser, standardise

log = logging.getLogger(__name__)


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
    stats = [
        fit_standardiser(a[train_idx], mask[train_idx, i], params.scaling)
        for i, a in enumerate(arrays)
    ]
    Z = [standardise(a, mask[:, i], *stats[i]) for i, a in enumerate(arrays)]
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
            val_logits = eval_logits(model, Z_val, M_val)
            score = metrics.waf_indices(y_val, predicted_classes(val_logits))
            if score > best[0]:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = (score, epoch, state, val_logits)

    best_waf, best_epoch, state_dict, val_logits = best
    acc = float(np.mean(y_val == predicted_classes(val_logits)))
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


def block_splits(n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The reference's folds (``fusion.split: blocks``, MERTools' ``random_split_indexes``):
    the clip indices shuffled, cut into ``folds`` contiguous blocks of ``n // folds``, the
    remainder going to the last block; not stratified. MERTools shuffles with Python's
    unseeded ``random``; here the shuffle is ``numpy``'s, seeded with ``seed``, so a run
    is reproducible (the folds differ from any one MERTools run, as its runs differ from
    each other)."""
    if n < folds:
        raise ValueError(f"{folds}-fold cross validation needs at least {folds} clips, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    size = n // folds
    blocks = [order[size * k : size * (k + 1)] for k in range(folds - 1)]
    blocks.append(order[size * (folds - 1) :])
    return [
        (np.sort(np.concatenate([b for j, b in enumerate(blocks) if j != k])), np.sort(blocks[k]))
        for k in range(folds)
    ]


def cv_splits(
    y_idx: np.ndarray, folds: int, seed: int, split: str = "stratified"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The seeded K-fold splits ``(train_idx, val_idx)`` every run uses: stratified
    (merflow's default) or the reference's contiguous blocks (:func:`block_splits`)."""
    n = len(y_idx)
    if split == "blocks":
        return block_splits(n, folds, seed)
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
    M = stack_mask(mask, features)
    if M.shape[0] != n:
        raise ValueError(f"mask has {M.shape[0]} rows, expected {n}")
    return features, arrays, M


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
    device: str = "cpu",
) -> CVResult:
    """Stratified K-fold training of the attention fusion on labelled clips, on ``device``
    (``auto``, ``cpu`` or ``cuda``: :func:`merlib.fusion.stacked.fusion_device`).

    ``X`` maps feature name -> (n, dim) array (its key order is the model's feature
    order), ``mask`` feature name -> (n,) bool presence, ``y`` the n label strings.
    Clips with no feature at all should be left out by the caller (they would train on
    nothing but the output bias). The K folds train together as one stacked model
    (:func:`merlib.fusion.stacked.train_stacked`; fold ``k`` is initialised with seed
    ``params.seed + seed_offset + k``; the folds depend on ``params.seed`` only).
    ``extra`` rows join training folds, never a validation fold (a copied row only the
    folds that train on its source clip: :class:`ExtraRows`), so scores stay comparable
    with a run without them (same folds, same seed, validation on the same clips).
    """
    return cross_validate_many(X, mask, y, [(params, seed_offset)], extra, device)[0]


def stack_key(params: FusionParams) -> tuple:
    """What runs must share to train in one stack: everything but dropout and lr (each
    model of a stack has its own), so the same folds, widths, epochs and batches."""
    return tuple((k, v) for k, v in params.as_dict().items() if k not in ("dropout", "lr"))


def cross_validate_many(
    X: Mapping[str, np.ndarray],
    mask: Mapping[str, np.ndarray],
    y: Sequence[str],
    runs: Sequence[tuple[FusionParams, int]],
    extra: ExtraRows | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> list[CVResult]:
    """:func:`cross_validate` of each ``(params, seed_offset)`` of ``runs`` on the same
    clips; the runs with the same :func:`stack_key` (a search's combinations of one
    ``hidden_dim``) train their K folds together as one stack of ``K x runs`` models.

    A run's result does not depend on which other runs share its stack: each model has
    its own rows, seed, generator, dropout, lr and Adam step, and the runs of one stack
    have the same folds, so every model has rows in the same batches (bit-identical on
    the CPU, ``tests/unit/test_search_jobs.py``). ``progress`` (:class:`merlib.progress.Progress`,
    counting fold-epochs) is updated after every epoch of every stack.
    """
    y_idx = np.array([label_index(v) for v in y], dtype=np.int64)
    n = len(y_idx)
    features, arrays, M = _check_inputs(X, mask, n)
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
    stacks: dict[tuple, list[int]] = {}
    for i, (params, _) in enumerate(runs):
        stacks.setdefault(stack_key(params), []).append(i)
    results: list[CVResult | None] = [None] * len(runs)
    for members in stacks.values():
        params = runs[members[0]][0]
        splits = cv_splits(y_idx, params.folds, params.seed, params.split)
        extra_rows = [fold_extra_rows(train_idx, sources, n) for train_idx, _ in splits]
        specs = [
            ModelSpec(
                train_idx=np.concatenate([train_idx, extra_rows[fold]]),
                val_idx=val_idx,
                dropout=runs[i][0].dropout,
                lr=runs[i][0].lr,
                seed=params.seed + runs[i][1] + fold,
            )
            for i in members
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
            device=device,
            scaling=params.scaling,
            progress=progress,
        )
        seconds = (time.perf_counter() - start) / len(members)
        K = len(splits)
        for j, i in enumerate(members):
            results[i] = _cv_result(
                features, arrays, y_idx, splits, extra_rows, trained[j * K : (j + 1) * K],
                runs[i], seconds,
            )  # fmt: skip
    return results


def _cv_result(
    features: list[str],
    arrays: Mapping[str, np.ndarray],
    y_idx: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    extra_rows: Sequence[np.ndarray],
    trained: Sequence[StackedResult],
    run: tuple[FusionParams, int],
    seconds: float,
) -> CVResult:
    """One run's CVResult from its K trained folds (``seconds``: the run's share)."""
    params, seed_offset = run
    n = len(y_idx)
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


# --- the workflow's step ---------------------------------------------------------------


@dataclass
class TrainingRun:
    cv: CVResult
    oof: pa.Table  # OOF_PREDICTIONS
    excluded: list[dict]  # {"name", "reason"} per labelled clip left out
    record: dict  # the folds JSON: features, params, folds, excluded


def train_on_manifest(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Files,
    features: Sequence[str],
    params: FusionParams,
    seed_offset: int = 0,
    device: str = "cpu",
) -> TrainingRun:
    """Cross-validate the fusion on the manifest's labelled clips (split ``labeled``).

    Labelled clips without a usable feature are left out and listed in ``excluded``
    (:func:`load_labelled`). ``seed_offset`` shifts the models' initialisation seeds (a
    search combination's). With noise augmentation (``sources.noisy``) each fold also
    trains on the noisy copies of its training clips; validation stays on the clean clips.
    """
    data = load_labelled(manifest_path, sources, features)
    cv = cross_validate(
        data.X,
        data.mask,
        data.labels,
        params,
        extra=data.noisy,
        seed_offset=seed_offset,
        device=device,
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
