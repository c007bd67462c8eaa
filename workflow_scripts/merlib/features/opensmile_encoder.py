"""The ``opensmile`` backend (audio): openSMILE functionals of a whole utterance.

``model`` names the feature set: ``eGeMAPSv02`` (88-d), ``ComParE_2016`` (6373-d) or any
other ``opensmile.FeatureSet`` name; the weights-free extractor ships in the PyPI package.
``eGeMAPSv01a`` and ``GeMAPSv01a`` (MERTools' eGeMAPS: the openSMILE 2.3 binary with
``eGeMAPSv01a.conf``) are not ``FeatureSet`` members, but the package ships their config
files (:data:`PACKAGED_CONFIGS`), which ``opensmile.Smile`` runs by path.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import SAMPLE_RATE, Encoder, register_backend

# Feature sets whose config files the opensmile package ships without a FeatureSet member,
# relative to its ``core/config`` folder
PACKAGED_CONFIGS = {
    "eGeMAPSv01a": "egemaps/v01a/eGeMAPSv01a.conf",
    "GeMAPSv01a": "gemaps/v01a/GeMAPSv01a.conf",
}


def feature_set_of(name: str):
    """The ``feature_set`` argument of ``opensmile.Smile`` for ``name``: a ``FeatureSet``
    member, or the path of a config file in :data:`PACKAGED_CONFIGS`."""
    import opensmile

    members = [m.name for m in opensmile.FeatureSet]
    if name in members:
        return opensmile.FeatureSet[name]
    if name in PACKAGED_CONFIGS:
        path = Path(opensmile.__file__).parent / "core" / "config" / PACKAGED_CONFIGS[name]
        if not path.is_file():
            raise FileNotFoundError(
                f"opensmile: feature set {name!r} needs {path}, which this opensmile "
                f"package ({opensmile.__version__}) does not ship"
            )
        return str(path)
    raise ValueError(
        f"opensmile: unknown feature set {name!r}; expected one of "
        f"{', '.join(members + list(PACKAGED_CONFIGS))}"
    )


class OpenSmileEncoder(Encoder):
    """openSMILE functionals of a whole utterance (eGeMAPSv02: 88 values)."""

    modality = "audio"

    def __init__(self, feature_set: str = "eGeMAPSv02"):
        import opensmile

        self.feature_set = feature_set
        self._smile = opensmile.Smile(
            feature_set=feature_set_of(feature_set),
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


__all__ = ["PACKAGED_CONFIGS", "OpenSmileEncoder", "feature_set_of"]
