"""The ``opensmile`` backend (audio): openSMILE functionals of a whole utterance.

``model`` names the feature set: ``eGeMAPSv02`` (88-d), ``ComParE_2016`` (6373-d) or any
other ``opensmile.FeatureSet`` name; the weights-free extractor ships in the PyPI package.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .base import SAMPLE_RATE, Encoder, register_backend


class OpenSmileEncoder(Encoder):
    """openSMILE functionals of a whole utterance (eGeMAPSv02: 88 values)."""

    modality = "audio"

    def __init__(self, feature_set: str = "eGeMAPSv02"):
        import opensmile

        names = [m.name for m in opensmile.FeatureSet]
        if feature_set not in names:
            raise ValueError(
                f"opensmile: unknown feature set {feature_set!r}; expected one of "
                f"{', '.join(names)}"
            )
        self.feature_set = feature_set
        self._smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet[feature_set],
            feature_level=opensmile.FeatureLevel.Functionals,
        )
        self.feature_names: list[str] = list(self._smile.feature_names)
        self.dim = len(self.feature_names)

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, signal in enumerate(items):
            signal = np.ascontiguousarray(signal, dtype=np.float32)
            # openSMILE warns and fills NaN for a segment too short: the NaN row is
            # what the caller rejects (with the duration), so the warning is muted.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Segment too short")
                frame = self._smile.process_signal(signal, SAMPLE_RATE)
            out[i] = frame.to_numpy(dtype=np.float32).reshape(-1)
        return out


@register_backend("opensmile", modalities=("audio",))
def _opensmile_factory(
    model: str, options: dict, *, modality: str, threads: int | None
) -> OpenSmileEncoder:
    return OpenSmileEncoder(model)


__all__ = ["OpenSmileEncoder"]
