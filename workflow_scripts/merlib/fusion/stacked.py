"""Many attention-fusion models trained together as one stacked model (folds, combinations).

:func:`merlib.fusion.training.train_fold` trains one ``nn.Module`` per fold: per step it
runs a dozen small matrix products, each with its own Python and dispatch overhead, and
the K folds (or the 50 x K models of a random search) run one after another. Here the
``M`` models are one :class:`merlib.fusion.model.StackedFusion` (every layer a single
``torch.baddbmm`` over all models); Adam updates the parameter buffer, one row per model,
with a per-model learning rate; validation runs for all models in one
forward pass and the WAF of every model is computed from one ``bincount``.

Adam is torch's fused kernel (:class:`AdamRows`), one pass per model row per step: on the
CPU the whole-buffer Adam it replaced (about ten passes over the parameters per step) was
half of an epoch's time (``bench/search_timing.py``, ``docs/benchmarks.md``).

Each model ``m`` keeps the semantics of the one-model loop exactly:

* its own training rows, reshuffled every epoch, cut into batches of ``batch_size`` (the
  last one smaller); models with fewer rows get an empty last batch and skip that step
  (no Adam update, no moment decay), as if they had stopped;
* its own dropout rate and learning rate (so combinations of a search that share
  ``hidden_dim`` can be stacked too), its own feature standardisation (mean/std of its
  training rows that have the feature), its own validation rows;
* the epoch with the best validation WAF is kept (first best on ties).

Initial weights are those of ``AttentionFusion`` built under ``torch.manual_seed(seed_m)``
(``nn.Linear``'s default init), and the kept weights are unstacked back into
``AttentionFusion`` state dicts, so checkpoints and
:func:`merlib.fusion.prediction.predict` are unchanged. Each model draws its batch orders
and dropout masks from its own ``torch.Generator`` seeded with its seed, so a model
trains the same whatever else is in the stack (up to float rounding of the batched
products): results are bit-identical on CPU for the same inputs, models, seeds and thread
count. They differ from the one-model loop's, whose dropout uses torch's global RNG.

On a GPU (``random_stream="auto"`` on a CUDA device, or ``"device"`` anywhere) those draws
come instead from :class:`merlib.fusion.device_random.CounterStream`: made on the device
for the whole stack from each model's seed and counters, so that a step needs nothing from
the CPU and waits for nothing (batch sizes and Adam's skipped steps are known on the host).
Still one stream per model (a model draws the same alone or stacked) and reproducible run
to run on one device, but another stream than the CPU generators': a GPU run and a CPU run
of the same seeds train other models of the same protocol (``docs/gpu.md``).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.adam import adam

from ..labels import MER2024
from ..progress import Progress
from .device_random import CounterStream
from .model import StackedFusion, predicted_classes
from .standardise import fit_standardiser

log = logging.getLogger(__name__)


ADAM_BETAS = (0.9, 0.999)

ADAM_EPS = 1e-8


@dataclass(frozen=True)
class ModelSpec:
    """One model of a stack: its rows, its hyperparameters that may differ, its seed."""

    train_idx: np.ndarray  # rows it trains on
    val_idx: np.ndarray  # rows it is validated on (the best-WAF epoch is kept)
    dropout: float
    lr: float
    seed: int


@dataclass
class StackedResult:
    """What training gives back for one model of the stack."""

    best_epoch: int
    waf: float
    acc: float
    val_logits: np.ndarray  # (len(val_idx), 6) float64, from the kept weights
    state_dict: dict  # AttentionFusion state dict of the kept weights
    mean: list[np.ndarray]  # per feature, standardisation fitted on the training rows
    std: list[np.ndarray]


def _fit_standardisers(
    arrays: Sequence[np.ndarray], mask: np.ndarray, rows: np.ndarray, scaling: str = "zscore"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    stats = [fit_standardiser(a[rows], mask[rows, i], scaling) for i, a in enumerate(arrays)]
    return [m for m, _ in stats], [s for _, s in stats]


def fusion_device(setting: str | torch.device = "auto") -> torch.device:
    """The device to train on: ``auto`` = CUDA when ``torch.cuda.is_available()``, else
    the CPU; ``cpu``; ``cuda`` (an error naming the cause when no GPU is visible)."""
    if isinstance(setting, torch.device):
        return setting
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("fusion.device is cuda but torch sees no CUDA GPU")
    if setting not in ("cpu", "cuda"):
        raise ValueError(f"fusion device must be auto, cpu or cuda, got {setting!r}")
    return torch.device(setting)


def waf_per_model(
    y: torch.Tensor, pred: torch.Tensor, valid: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """(M,) float64 WAF of each model's valid rows (sklearn's arithmetic, as waf_indices)."""
    M = y.shape[0]
    k = n_classes
    model = torch.arange(M, device=y.device).view(-1, 1).expand_as(y)
    # Padding rows go to one extra bin (dropped) rather than being indexed out: a boolean
    # index would wait for the device to learn its size.
    flat = torch.where(valid, model * k * k + y * k + pred, M * k * k).reshape(-1)
    counts = torch.bincount(flat, minlength=M * k * k + 1)[:-1].view(M, k, k).double()
    tp = torch.diagonal(counts, dim1=1, dim2=2)
    support = counts.sum(dim=2)
    predicted = counts.sum(dim=1)
    denom = support + predicted
    f1 = torch.where(denom > 0, 2.0 * tp / denom.clamp(min=1), torch.zeros((), dtype=tp.dtype))
    return (f1 * support).sum(dim=1) / support.sum(dim=1)


class AdamRows:
    """Adam (torch's, with L2 weight decay) on each row of a (M, P) parameter buffer, one
    row per model with its own learning rate and step count.

    A step runs torch's fused Adam kernel (``torch.optim.adam.adam(..., fused=True)``,
    what ``torch.optim.Adam(fused=True)`` runs: one vectorised pass over a row's
    parameters, gradient and moments instead of a dozen whole-buffer operations) once per
    distinct learning rate, on the rows of the models that had rows in the batch; a model
    without rows skips the step (no moment decay, no step counted), as if it had stopped.
    Its arithmetic is torch's Adam's, rounded in another order than the unfused
    ``foreach`` Adam of :func:`merlib.fusion.training.train_fold`: results agree within
    float tolerance, and are bit-identical from run to run on the CPU.
    """

    def __init__(self, flat: torch.Tensor, grad: torch.Tensor, lrs: Sequence[float]):
        self.params = list(flat.unbind(0))
        self.grads = list(grad.unbind(0))
        self.exp_avgs = list(torch.zeros_like(flat).unbind(0))
        self.exp_avg_sqs = list(torch.zeros_like(flat).unbind(0))
        self.steps = [torch.zeros((), dtype=torch.float32, device=flat.device) for _ in lrs]
        self.by_lr: dict[float, list[int]] = {}
        for m, lr in enumerate(lrs):
            self.by_lr.setdefault(float(lr), []).append(m)

    def __call__(self, counts: Sequence[int], weight_decay: float) -> None:
        """One step for the models ``m`` with ``counts[m] > 0``; the grads are in place."""
        for lr, members in self.by_lr.items():
            rows = [m for m in members if counts[m] > 0]
            if not rows:
                continue
            adam(
                [self.params[m] for m in rows],
                [self.grads[m] for m in rows],
                [self.exp_avgs[m] for m in rows],
                [self.exp_avg_sqs[m] for m in rows],
                [],
                [self.steps[m] for m in rows],
                fused=True,
                amsgrad=False,
                beta1=ADAM_BETAS[0],
                beta2=ADAM_BETAS[1],
                lr=lr,
                weight_decay=weight_decay,
                eps=ADAM_EPS,
                maximize=False,
            )


def _standardised_inputs(
    arrays: Sequence[torch.Tensor],
    mask: torch.Tensor,
    specs: Sequence[ModelSpec],
    means: Sequence[Sequence[np.ndarray]],
    stds: Sequence[Sequence[np.ndarray]],
) -> Callable[[torch.Tensor], tuple[list[torch.Tensor], torch.Tensor]]:
    """``inputs(idx)``: for (M, B) row indices, each feature's (M, B, dim) standardised
    rows (zero where missing, model m standardised with its own training rows' stats) and
    the (M, B, F) presence mask.

    The data are standardised once, one copy per distinct set of training rows (the K
    folds; a search job's combinations share them), so a batch costs one gather per
    feature instead of gather, subtract, divide and mask; the values are the same bits.
    Memory: that many copies of the features.
    """
    dev = mask.device
    copies: dict[bytes, int] = {}
    which = [copies.setdefault(np.asarray(s.train_idx).tobytes(), len(copies)) for s in specs]
    first = {c: which.index(c) for c in range(len(copies))}  # a model of each copy
    n = mask.shape[0]
    tables = []
    for f, a in enumerate(arrays):
        mean = torch.from_numpy(np.stack([means[first[c]][f] for c in first]))[:, None]
        std = torch.from_numpy(np.stack([stds[first[c]][f] for c in first]))[:, None]
        z = (a[None] - mean.to(dev)) / std.to(dev)  # (copies, n, dim)
        z = torch.where(mask[None, :, f : f + 1], z, torch.zeros((), dtype=z.dtype))
        tables.append(z.reshape(len(copies) * n, -1))
    offset = (torch.tensor(which, dtype=torch.int64) * n).view(-1, 1).to(dev)

    def inputs(idx: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        rows = idx + offset
        return [t[rows] for t in tables], mask[idx]

    return inputs


def _device_stream(random_stream: str, dev: torch.device) -> bool:
    """Whether training draws its random numbers on the device (``random_stream``)."""
    if random_stream not in ("auto", "host", "device"):
        raise ValueError(f"random_stream must be auto, host or device, got {random_stream!r}")
    return random_stream == "device" or (random_stream == "auto" and dev.type == "cuda")


def _to_device(t: torch.Tensor, dev: torch.device) -> torch.Tensor:
    """``t`` on ``dev``; to a CUDA device through pinned memory, without waiting."""
    if dev.type != "cuda":
        return t.to(dev)
    return t.pin_memory().to(dev, non_blocking=True)


def _draw(
    stream: CounterStream, epoch: int, step: int, site: int, shape: torch.Size
) -> torch.Tensor:
    return stream.uniform(epoch, step, site, shape)


def _pad_rows(index_sets: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in index_sets)
    idx = torch.zeros((len(index_sets), width), dtype=torch.int64)
    valid = torch.zeros((len(index_sets), width), dtype=torch.bool)
    for m, rows in enumerate(index_sets):
        idx[m, : len(rows)] = torch.as_tensor(np.asarray(rows, dtype=np.int64))
        valid[m, : len(rows)] = True
    return idx, valid


def train_stacked(
    arrays: Sequence[np.ndarray],
    mask: np.ndarray,
    y: np.ndarray,
    specs: Sequence[ModelSpec],
    hidden_dim: int,
    attention: str,
    epochs: int,
    batch_size: int,
    weight_decay: float,
    device: str | torch.device = "cpu",
    scaling: str = "zscore",
    progress: Progress | None = None,
    random_stream: str = "auto",
    n_classes: int = len(MER2024),
) -> list[StackedResult]:
    """Train ``len(specs)`` fusion models together; see the module docstring.

    ``device`` (see :func:`fusion_device`): the data, index tensors, parameter buffer and
    Adam state live there. Results come back as CPU arrays.

    ``random_stream``: where the batch orders and dropout masks come from. ``host``: each
    model's CPU ``torch.Generator`` (the CPU path: bit-identical run to run and to earlier
    merflow versions; on a GPU each draw is then made on the CPU and copied). ``device``:
    :class:`merlib.fusion.device_random.CounterStream`, counter-based hashes computed on
    the device for the whole stack, with no per-step host synchronisation (the step needs
    nothing from the device: batch sizes are known on the host); reproducible run to run
    on one device, a different stream from ``host``'s. ``auto`` (default): ``device`` on
    a CUDA device, ``host`` on the CPU.

    ``arrays[f]`` is (n, dim_f) float32 (zeros where missing), ``mask`` (n, F) bool,
    ``y`` (n,) label indices (only rows in a model's train/val sets are read) of a
    label set of ``n_classes`` labels (the models' outputs).
    ``scaling`` is :func:`merlib.fusion.standardise.fit_standardiser`'s (``"none"``: raw).
    ``progress`` (a :class:`merlib.progress.Progress` counting model-epochs) is updated
    by ``len(specs)`` after every epoch.
    """
    if not specs:
        raise ValueError("train_stacked needs at least one model")
    for m, s in enumerate(specs):
        if len(s.train_idx) == 0 or len(s.val_idx) == 0:
            raise ValueError(f"model {m}: empty training or validation rows")
    start = time.perf_counter()
    dev = fusion_device(device)
    on_device = _device_stream(random_stream, dev)
    M = len(specs)
    arrays_np = [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
    arrays = [_to_device(torch.from_numpy(a), dev) for a in arrays_np]
    mask_np = np.ascontiguousarray(mask, dtype=bool)
    mask_t = _to_device(torch.from_numpy(mask_np), dev)
    y_t = _to_device(torch.from_numpy(np.asarray(y, dtype=np.int64)), dev)
    means, stds = [], []
    for s in specs:
        m_, s_ = _fit_standardisers(arrays_np, mask_np, s.train_idx, scaling)
        means.append(m_)
        stds.append(s_)
    inputs = _standardised_inputs(arrays, mask_t, specs, means, stds)

    keep = torch.tensor([1.0 - s.dropout for s in specs], dtype=torch.float32, device=dev)
    val_idx, val_valid = (t.to(dev) for t in _pad_rows([s.val_idx for s in specs]))
    val_y = y_t[val_idx]
    val_x, val_m = inputs(val_idx)
    train_sets = [torch.as_tensor(np.asarray(s.train_idx, dtype=np.int64)) for s in specs]
    n_rows = [len(t) for t in train_sets]  # known on the host: no step waits for the device
    n_train = torch.tensor(n_rows, device=dev)
    width = max(n_rows)

    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    if dev.type == "cuda":
        # cuBLAS is deterministic with this workspace setting; without it torch warns on
        # every matrix product in deterministic mode (set before the first cuBLAS call).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        # Deterministic mode also fills every new device tensor with NaN (a kernel per
        # allocation); training writes every element it reads, so that fill only costs.
        torch.utils.deterministic.fill_uninitialized_memory = False
    # CUDA's bincount and index_add have no deterministic kernels: warn there, not fail.
    torch.use_deterministic_algorithms(True, warn_only=dev.type != "cpu")
    try:
        model = StackedFusion(
            [a.shape[1] for a in arrays], hidden_dim, attention, [s.seed for s in specs],
            n_classes,
        ).to(dev)  # fmt: skip
        flat = model.flat
        grad = torch.zeros_like(flat)
        grad_views = [v for i in range(len(model.layout)) for v in model.views(grad, i)]
        adam_state = AdamRows(flat, grad, [s.lr for s in specs])
        if on_device:
            stream = CounterStream([s.seed for s in specs], dev)
            train_table = _pad_rows([s.train_idx for s in specs])[0].to(dev)
            generators = []
        else:
            generators = [torch.Generator().manual_seed(int(s.seed)) for s in specs]
        best_waf = torch.full((M,), -1.0, dtype=torch.float64, device=dev)
        best_epoch = torch.zeros(M, dtype=torch.int64, device=dev)
        best_flat = flat.detach().clone()
        best_logits = torch.zeros((M, val_idx.shape[1], n_classes), device=dev)
        for epoch in range(1, epochs + 1):
            if on_device:
                order = train_table.gather(1, stream.permutation(epoch, n_train, width))
            else:
                order = torch.zeros((M, width), dtype=torch.int64)
                for m, rows in enumerate(train_sets):
                    perm = torch.randperm(len(rows), generator=generators[m])
                    order[m, : len(rows)] = rows[perm]
                order = order.to(dev)
            for step, lo in enumerate(range(0, width, batch_size)):
                hi = min(lo + batch_size, width)
                valid = torch.arange(lo, hi, device=dev)[None, :] < n_train[:, None]  # (M, B)
                count = valid.sum(dim=1)
                counts = [min(max(n - lo, 0), hi - lo) for n in n_rows]
                idx = order[:, lo:hi]
                xs, present = inputs(idx)
                draw = None
                if on_device:
                    draw = functools.partial(_draw, stream, epoch, step)
                logits = model.logits(xs, present, keep, generators, counts, draw)
                nll = F.nll_loss(
                    F.log_softmax(logits, dim=2).reshape(-1, n_classes),
                    y_t[idx].reshape(-1),
                    reduction="none",
                ).view(M, -1)
                per_model = (nll * valid).sum(dim=1) / count.clamp(min=1)
                grads = torch.autograd.grad(per_model.sum(), model.leaves)
                with torch.no_grad():
                    torch._foreach_copy_(grad_views, grads)  # one call, not one per layer
                    adam_state(counts, weight_decay)
            with torch.no_grad():
                val_logits = model.logits(val_x, val_m)
                pred = torch.softmax(val_logits.double(), dim=2).argmax(dim=2)
                score = waf_per_model(val_y, pred, val_valid, n_classes)
                better = score > best_waf
                # On the CPU the check spares the copies; on a device it would wait for it,
                # and keeping the old values where nothing is better changes no bit.
                if on_device or better.any():
                    best_waf = torch.where(better, score, best_waf)
                    best_epoch = torch.where(better, epoch, best_epoch)
                    best_flat = torch.where(better.view(-1, 1), flat, best_flat)
                    best_logits = torch.where(better.view(-1, 1, 1), val_logits, best_logits)
            if progress is not None:
                progress.update(M)
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.utils.deterministic.fill_uninitialized_memory = fill

    states = model.state_dicts(best_flat.cpu())
    best_logits, best_waf, best_epoch = best_logits.cpu(), best_waf.cpu(), best_epoch.cpu()
    results = []
    for m, s in enumerate(specs):
        logits = best_logits[m, : len(s.val_idx)].double().numpy()
        acc = float(np.mean(np.asarray(y)[s.val_idx] == predicted_classes(logits)))
        results.append(
            StackedResult(
                best_epoch=int(best_epoch[m]),
                waf=float(best_waf[m]),
                acc=acc,
                val_logits=logits,
                state_dict=states[m],
                mean=means[m],
                std=stds[m],
            )
        )
    log.info(
        "%d models stacked (hidden %d, %d epochs) in %.1f s",
        M,
        hidden_dim,
        epochs,
        time.perf_counter() - start,
    )
    return results
