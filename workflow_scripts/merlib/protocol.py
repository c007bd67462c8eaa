"""``protocol``: merflow's defaults or MERTools' (the reference), one switch over per-row options.

Every place where merflow departs from MERTools' MER2024 code and the reference can be
reproduced is a named config option (:data:`OPTIONS`: section, key, merflow's value, the
reference's value). The top-level ``protocol`` key (``merflow`` or ``reference``) sets the
default of each of them; a value given explicitly in the config wins, so a user can mix
(``protocol: reference`` with ``fusion: {scaling: zscore}``). The schema gives each such
option the default ``null`` ("follow protocol"); :func:`resolve` fills the nulls, once,
in ``rules/common.smk`` right after validation, so every rule reads resolved values.

``docs/reference.md`` lists each row with the reason for merflow's default.

The encoder-side rows (DINOv2 pooling and frames, precision, speech chunking, Whisper
states) depend on the model's type, known only once its config is read: :func:`resolve`
passes ``protocol: reference`` into the options of each feature of
:data:`ENCODER_BACKENDS` (unless the feature names its own ``protocol``), and
:mod:`merlib.features.hf_reference` resolves them there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

PROTOCOLS = ("merflow", "reference")


@dataclass(frozen=True)
class Option:
    """One divergence from the reference: where it is set and the two values."""

    section: str
    key: str
    merflow: object
    reference: object

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


OPTIONS = (
    Option("fusion", "scaling", "zscore", "none"),
    Option("fusion", "split", "stratified", "blocks"),
    Option("tables", "unimodal_branches", 1, 3),
    Option("tables", "bimodal_repeat", False, True),
    # the reference's per-row search draws as many combinations as the main search
    Option("tables", "row_search", 0, "search.n_combinations"),
    Option("noise", "replacement", False, True),
    # MERTools has no self-training: its submission is the supervised model's
    Option("submission", "model", "auto", "supervised"),
    # OpenFace-aligned faces of every frame: landmarks aligned onto the ArcFace template
    Option("media", "face_align", "box", "arcface"),
    Option("media", "face_fps", 4, "native"),
)


# Backends whose features take ``protocol`` as an option (merlib.features.hf_reference).
ENCODER_BACKENDS = ("transformers",)


def _pass_to_encoders(config: dict) -> None:
    """Set ``options.protocol: reference`` on each feature of :data:`ENCODER_BACKENDS` that
    has none. Only in reference mode: a merflow run's feature specs stay exactly as given,
    so the extraction jobs keyed on them do not rerun."""
    for spec in (config.get("features") or {}).values():
        if isinstance(spec, dict) and spec.get("backend") in ENCODER_BACKENDS:
            spec["options"] = {"protocol": "reference", **(spec.get("options") or {})}


def _value(option: Option, protocol: str, config: Mapping):
    value = option.reference if protocol == "reference" else option.merflow
    if isinstance(value, str) and value == "search.n_combinations":
        return int(config.get("search", {}).get("n_combinations", 0))
    return value


def resolve(config: Mapping) -> dict:
    """A copy of ``config`` with every :data:`OPTIONS` entry that is missing or ``None``
    set from ``config["protocol"]`` (default ``merflow``); explicit values are kept."""
    protocol = config.get("protocol") or "merflow"
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    resolved = copy.deepcopy(dict(config))
    resolved["protocol"] = protocol
    for option in OPTIONS:
        section = resolved.setdefault(option.section, {})
        if section.get(option.key) is None:
            section[option.key] = _value(option, protocol, resolved)
    if protocol == "reference":
        _pass_to_encoders(resolved)
    return resolved
