"""The ``precomputed`` backend (any modality): features read from per-clip ``.npy`` files.

MER2024's organisers released their baseline features in MERTools' layout, one folder
per feature holding one ``<clip name>.npy`` per clip: an utterance-level vector
(shape ``(dim,)``, or ``(1, dim)``) or frame-level vectors (``(frames, dim)``, MERTools'
``FRAME`` level), which are averaged over the frames, as MERTools' utterance-level
baseline does. ``model`` is that folder::

    features:
      chinese_hubert_large:
        modality: audio
        backend: precomputed
        model: /data/mer2024-features/chinese-hubert-large-UTT

``options.dim`` fixes the vector size; without it, the size is read from the first file
(by name) of the folder. A clip whose file is missing, unreadable, empty, of another size
or of more than two dimensions is rejected with the reason (:class:`FeatureFileError`),
as any feature failure is; non-finite values are rejected like a model's.

The encoder reads clip names, not media (:attr:`PrecomputedEncoder.reads_names`): its
extraction job needs neither audio nor faces nor transcripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import MediaError
from .base import MODALITIES, Encoder, register_backend

SUFFIX = ".npy"


class FeatureFileError(MediaError):
    """A clip's precomputed feature file is missing or not a vector of the expected size."""


def read_vector(path: Path, dim: int | None = None) -> np.ndarray:
    """The utterance-level float32 vector of one ``.npy`` file: ``(dim,)`` or ``(1, dim)``
    as it is, ``(frames, dim)`` averaged over the frames. Raises :class:`FeatureFileError`
    naming the file and what was found."""
    if not path.is_file():
        raise FeatureFileError(f"{path}: no precomputed feature file")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FeatureFileError(f"{path}: not a readable .npy array ({exc})") from None
    if array.ndim == 2:
        if array.shape[0] == 0:
            raise FeatureFileError(f"{path}: shape {array.shape}, no frame to average")
        array = array.mean(axis=0)
    if array.ndim != 1 or array.size == 0:
        raise FeatureFileError(
            f"{path}: shape {array.shape}; expected (dim,), (1, dim) or (frames, dim)"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise FeatureFileError(f"{path}: dtype {array.dtype} is not numeric")
    if dim is not None and array.shape[0] != dim:
        raise FeatureFileError(f"{path}: {array.shape[0]} values; expected {dim}")
    return array.astype(np.float32)


class PrecomputedEncoder(Encoder):
    """Vectors of ``<folder>/<clip name>.npy`` (MERTools' layout)."""

    reads_names = True

    def __init__(self, folder: str | Path, modality: str, dim: int | None = None):
        self.folder = Path(folder).expanduser()
        self.modality = modality
        if not self.folder.is_dir():
            raise ValueError(f"precomputed: {self.folder} is not a folder of <name>.npy files")
        if dim is None:
            first = min((p for p in self.folder.glob(f"*{SUFFIX}")), default=None)
            if first is None:
                raise ValueError(f"precomputed: {self.folder} holds no {SUFFIX} file")
            try:
                dim = read_vector(first).shape[0]
            except FeatureFileError as exc:
                raise ValueError(
                    f"precomputed: the size is read from the first file, which is bad: {exc}; "
                    "set options.dim"
                ) from None
        self.dim = int(dim)

    def load(self, name: str) -> np.ndarray:
        """Clip ``name``'s vector; :class:`FeatureFileError` if missing or misshaped."""
        return read_vector(self.folder / f"{name}{SUFFIX}", self.dim)

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack(items)


@register_backend("precomputed", modalities=MODALITIES, options=("dim",))
def _precomputed_factory(model, options, *, modality, threads=None):
    dim = options.get("dim")
    if dim is not None and (not isinstance(dim, int) or dim < 1):
        raise ValueError(f"precomputed: options.dim must be a positive integer, got {dim!r}")
    return PrecomputedEncoder(model, modality, dim)
