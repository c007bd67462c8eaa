"""The attention-fusion model, in its one-model and stacked K-model forms, side by side.

The model is the MER2024 baseline's ``attention`` model (MERTools,
``toolkit/models/attention.py``), generalised from its three fixed modalities to any
number of features:

* each feature ``f`` has an encoder: ``Dropout(p)`` on the input, then three
  ``Linear + ReLU`` layers of width ``hidden_dim`` -> hidden vector ``h_f``;
* the attention head passes the concatenation ``[h_1, ..., h_F]`` through the same kind of
  encoder (dropout, 3 x ``Linear + ReLU``) and a ``Linear(hidden_dim, F)``: one weight
  ``a_f`` per feature;
* the fused vector is the weighted sum ``sum_f a_f h_f`` and a ``Linear(hidden_dim, 6)``
  gives the emotion logits; the loss (in :mod:`merlib.fusion.training`) is the NLL of
  their log-softmax.

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
softmax mode it is excluded before the softmax.

**Two forms of one architecture.** :class:`AttentionFusion` is one ``nn.Module``
(checkpoints hold its state dicts; prediction runs it). :class:`StackedFusion` holds
``M`` such models with their weights stacked along a leading axis (``(M, in, out)``, all
views of one ``(M, P)`` buffer) so that every layer is a single ``torch.baddbmm`` over all
models; it is initialised from, and unstacks back into, ``AttentionFusion`` state dicts
(:mod:`merlib.fusion.stacked` trains it). A change to the architecture is made in both
classes here, and ``tests/unit/fusion/test_stacked.py`` checks that they compute the same logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..labels import LABELS
from .params import ATTENTION_MODES


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


def eval_logits(model: AttentionFusion, Z: Sequence[torch.Tensor], M: torch.Tensor) -> np.ndarray:
    """(B, n_classes) float64 logits of ``model`` in evaluation mode (no dropout, no grad)."""
    model.eval()
    with torch.no_grad():
        return model(Z, M).double().numpy()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predicted_classes(logits: np.ndarray) -> np.ndarray:
    """Predicted class indices, taken on the probabilities as the OOF table stores them."""
    return softmax(logits).argmax(axis=1)


# --- the stacked form --------------------------------------------------------------------


def _encoder_keys(prefix: str) -> list[str]:
    # nn.Sequential(Dropout, Linear, ReLU, Linear, ReLU, Linear, ReLU): Linears at 1, 3, 5.
    return [f"{prefix}.{i}" for i in (1, 3, 5)]


def _linear_names(n_features: int) -> list[str]:
    names = []
    for f in range(n_features):
        names += _encoder_keys(f"encoders.{f}")
    names += _encoder_keys("attention_mlp")
    return names + ["fc_att", "fc_out"]


class StackedFusion:
    """``M`` attention-fusion models with the same features, width and attention mode."""

    def __init__(
        self, dims: Sequence[int], hidden_dim: int, attention: str, seeds: Sequence[int]
    ) -> None:
        self.dims = [int(d) for d in dims]
        self.hidden_dim = int(hidden_dim)
        self.attention = attention
        self.names = _linear_names(len(self.dims))
        states = []
        for seed in seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                states.append(AttentionFusion(self.dims, hidden_dim, 0.0, attention).state_dict())
        # All parameters of model m live in row m of one (M, P) buffer: Adam, weight decay
        # and keeping the best epoch are then a few operations on one tensor per step.
        # Layer i reads its weight (M, in, out) and bias (M, 1, out) as views of it.
        self.layout = []  # (name, offset, in, out) per Linear; its bias follows its weight
        offset = 0
        for name in self.names:
            out_dim, in_dim = states[0][f"{name}.weight"].shape
            self.layout.append((name, offset, in_dim, out_dim))
            offset += in_dim * out_dim + out_dim
        self.flat = torch.zeros((len(states), offset), dtype=torch.float32)
        for m, state in enumerate(states):
            for name, start, in_dim, out_dim in self.layout:
                n = in_dim * out_dim
                self.flat[m, start : start + n] = state[f"{name}.weight"].t().reshape(-1)
                self.flat[m, start + n : start + n + out_dim] = state[f"{name}.bias"]
        # The layers' parameters are leaf tensors sharing flat's storage: autograd gives
        # one gradient per layer (a gradient taken through views of flat would build a
        # full-size zero tensor per layer and step), and updating flat updates them.
        self._bind_leaves()

    def _bind_leaves(self) -> None:
        self.leaves = []
        for i in range(len(self.layout)):
            self.leaves += [t.requires_grad_(True) for t in self.views(self.flat, i)]

    def to(self, device: torch.device) -> StackedFusion:
        """The parameter buffer (and its layer leaves) on ``device``; a no-op on its own."""
        if self.flat.device != torch.device(device):
            self.flat = self.flat.detach().to(device)
            self._bind_leaves()
        return self

    def views(self, flat: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        _, start, in_dim, out_dim = self.layout[i]
        n = in_dim * out_dim
        weight = flat[:, start : start + n].view(-1, in_dim, out_dim)
        bias = flat[:, start + n : start + n + out_dim].view(-1, 1, out_dim)
        return weight, bias

    def state_dicts(self, flat: torch.Tensor | None = None) -> list[dict]:
        """Per model, an ``AttentionFusion`` state dict (of ``flat`` or the current one)."""
        flat = (self.flat if flat is None else flat).detach()
        out = []
        for m in range(flat.shape[0]):
            state = {}
            for i, (name, *_) in enumerate(self.layout):
                weight, bias = self.views(flat[m : m + 1], i)
                state[f"{name}.weight"] = weight[0].t().clone().contiguous()
                state[f"{name}.bias"] = bias[0, 0].clone()
            out.append(state)
        return out

    def _linear(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.leaves[2 * i + 1], x, self.leaves[2 * i])

    def _encode(self, first: int, x: torch.Tensor) -> torch.Tensor:
        for i in range(first, first + 3):
            x = torch.relu(self._linear(i, x))
        return x

    def logits(
        self,
        xs: Sequence[torch.Tensor],
        mask: torch.Tensor,
        keep: torch.Tensor | None = None,
        generators: Sequence[torch.Generator] = (),
        rows: Sequence[int] = (),
        draw: Callable[[int, torch.Size], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """(M, B, 6) logits; ``xs[f]`` (M, B, dim_f) standardised, ``mask`` (M, B, F) bool.

        ``keep`` (M,) keep-probabilities turns dropout on (training), model m's masks drawn
        from ``generators[m]`` for its first ``rows[m]`` rows (the others are padding), or,
        with ``draw``, from ``draw(site, shape)``: the (M, B, dim) uniforms of dropout site
        ``site`` (feature f's input is site f, the attention head's input site F) made on
        the device (:class:`merlib.fusion.device_random.CounterStream`).
        ``None`` is evaluation mode.
        """
        n_features = len(self.dims)
        hidden = []
        for f, x in enumerate(xs):
            present = mask[:, :, f : f + 1]
            if keep is not None:
                x = _dropout(x, keep, generators, rows, draw, f)
            h = self._encode(3 * f, x)
            hidden.append(torch.where(present, h, torch.zeros((), dtype=h.dtype)))
        joined = torch.cat(hidden, dim=2)
        if keep is not None:
            joined = _dropout(joined, keep, generators, rows, draw, n_features)
        scores = self._linear(3 * n_features + 3, self._encode(3 * n_features, joined))
        if self.attention == "softmax":
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            scores = torch.softmax(scores, dim=2)
        weights = torch.where(mask, scores, torch.zeros((), dtype=scores.dtype))
        fused = torch.einsum("mbf,mbfh->mbh", weights, torch.stack(hidden, dim=2))
        return self._linear(3 * n_features + 4, fused)


def _dropout(
    x: torch.Tensor,
    keep: torch.Tensor,
    generators: Sequence[torch.Generator],
    rows: Sequence[int],
    device_draw: Callable[[int, torch.Size], torch.Tensor] | None = None,
    site: int = 0,
) -> torch.Tensor:
    """Inverted dropout; model m's mask for its first ``rows[m]`` (real) rows is drawn from
    ``generators[m]``, so padding rows never consume its random stream; or, with
    ``device_draw``, the whole (M, B, dim) mask at once on x's device (a padding row's
    draws are made and never used: they depend on its position only)."""
    scale = (1.0 / keep).view(-1, 1, 1)
    if device_draw is not None:
        draw = device_draw(site, x.shape[1:])
    else:
        draw = torch.zeros(x.shape, dtype=x.dtype)
        for m, (g, n) in enumerate(zip(generators, rows, strict=True)):
            if n:
                draw[m, :n] = torch.rand((n, *x.shape[2:]), generator=g, dtype=x.dtype)
        # Drawn on the CPU from CPU generators (same draws on every device), then moved.
        draw = draw.to(x.device)
    return torch.where(draw < keep.view(-1, 1, 1), x * scale, torch.zeros((), dtype=x.dtype))
