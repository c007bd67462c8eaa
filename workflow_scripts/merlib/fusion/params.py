"""Hyperparameters of the attention fusion and its cross-validation (:class:`FusionParams`).

The defaults are MERTools' (``main-release.py``): hidden width 128, dropout 0.3, Adam with
lr 1e-3 and weight decay 1e-5, batches of 32, 100 epochs, five folds. Read by the model
(:mod:`merlib.fusion.model`), training (:mod:`merlib.fusion.training`), the search and
the checkpoints (``params`` is stored with every model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

ATTENTION_MODES = ("raw", "softmax")

SCALINGS = ("zscore", "none")  # merflow's per-feature z-score; the reference's raw features

SPLITS = ("stratified", "blocks")  # merflow's stratified folds; the reference's blocks


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
    scaling: str = "zscore"  # "zscore" (merflow) or "none" (reference: raw features)
    split: str = "stratified"  # "stratified" (merflow) or "blocks" (reference)

    def __post_init__(self) -> None:
        for name, allowed in (("scaling", SCALINGS), ("split", SPLITS)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
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

        The keys ``features`` (the feature list) and ``device`` (where training runs: not
        a hyperparameter, so not stored with the models), which live in the same config
        section, and ``None`` values (an option left to the protocol, ``merlib.protocol``:
        here its default) are ignored; any other unknown key raises, naming it.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        skip = ("features", "device")
        values = {k: v for k, v in dict(config).items() if k not in skip and v is not None}
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
        types |= {"scaling": str, "split": str}
        return cls(**{k: types[k](v) for k, v in values.items()})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
