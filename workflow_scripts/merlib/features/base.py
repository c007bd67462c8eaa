"""The feature registry and the encoder interface every backend implements.

A feature is configured by name (``config.yaml``, key ``features``) with a spec
``{modality: audio|visual|text, backend: <name>, model: <id or path>, options: {...}}``.
:func:`build_encoder` turns a spec into an :class:`Encoder` through the backend that
:func:`register_backend` registered under that name in :data:`BACKENDS`;
:func:`validate_spec` checks a spec without building anything, and
:func:`feature_resources` sizes an extraction job (GPU, memory) from it.

What an encoder receives, per clip, depends on its modality:

- ``audio``: a 1-D float32 waveform in [-1, 1] at :data:`SAMPLE_RATE` Hz;
- ``visual``: the clip's face crops in frame order, each an ``(H, W, 3)`` uint8 RGB array;
- ``text``: the transcription, a string (empty when the clip has none; see
  :func:`is_empty_text`).

The backends live in their own modules, each importing only this one (and the modules it
builds on); :mod:`merlib.features` imports them all, so they are registered whenever any
module of the package is imported.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODALITIES: tuple[str, ...] = ("audio", "visual", "text")

# Sample rate every audio encoder receives (the AUDIO table's rate, config media.sample_rate).
SAMPLE_RATE = 16000


class EncoderOutputError(RuntimeError):
    """An encoder returned an array of the wrong shape: the model or backend is broken."""


# --------------------------------------------------------------------------------------
# Encoders and their registry
# --------------------------------------------------------------------------------------


class Encoder(ABC):
    """Maps a batch of clips of one modality to an ``(n, dim)`` float32 array.

    Subclasses set ``modality`` and ``dim`` and implement :meth:`_encode`. Per-clip
    problems that a model reports as NaN or inf are left in the output (the caller turns
    those rows into rejects); a model that cannot run raises.
    """

    modality: str
    dim: int
    # True for an encoder that reads each clip's vector by its name (``load(name)``), not
    # from its media (the ``precomputed`` backend)
    reads_names: bool = False

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        """Encode a batch; returns an ``(len(items), dim)`` float32 array."""
        if len(items) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._encode(items), dtype=np.float32)
        if out.shape != (len(items), self.dim):
            raise EncoderOutputError(
                f"{type(self).__name__} returned an array of shape {out.shape} for "
                f"{len(items)} items; expected ({len(items)}, {self.dim})"
            )
        return out

    @abstractmethod
    def _encode(self, items: Sequence[Any]) -> np.ndarray: ...


EncoderFactory = Callable[..., Encoder]


@dataclass(frozen=True)
class Backend:
    """A registered backend: the modalities it serves, its factory and accepted options.

    ``factory(model, options, *, modality, threads)`` builds the encoder.
    """

    name: str
    modalities: frozenset[str]
    factory: EncoderFactory
    options: frozenset[str] = frozenset()


BACKENDS: dict[str, Backend] = {}


def register_backend(
    name: str, modalities: Sequence[str], options: Sequence[str] = ()
) -> Callable[[EncoderFactory], EncoderFactory]:
    """Decorator registering ``factory`` as backend ``name`` in :data:`BACKENDS`."""
    unknown = set(modalities) - set(MODALITIES)
    if unknown:
        raise ValueError(f"backend {name!r}: unknown modalities {sorted(unknown)}")

    def wrap(factory: EncoderFactory) -> EncoderFactory:
        BACKENDS[name] = Backend(name, frozenset(modalities), factory, frozenset(options))
        return factory

    return wrap


def validate_spec(name: str, spec: Mapping[str, Any]) -> Backend:
    """Check a feature spec against the registry; returns its backend or raises ValueError."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"feature {name!r}: spec must be a mapping, got {type(spec).__name__}")
    missing = [k for k in ("modality", "backend", "model") if not spec.get(k)]
    if missing:
        raise ValueError(f"feature {name!r}: spec lacks {', '.join(missing)}")
    extra = set(spec) - {"modality", "backend", "model", "options"}
    if extra:
        raise ValueError(f"feature {name!r}: unknown spec keys {sorted(extra)}")
    modality, backend_name = spec["modality"], spec["backend"]
    if modality not in MODALITIES:
        raise ValueError(
            f"feature {name!r}: unknown modality {modality!r}; expected one of "
            f"{', '.join(MODALITIES)}"
        )
    backend = BACKENDS.get(backend_name)
    if backend is None:
        raise ValueError(
            f"feature {name!r}: unknown backend {backend_name!r}; available: "
            f"{', '.join(sorted(BACKENDS))}"
        )
    if modality not in backend.modalities:
        raise ValueError(
            f"feature {name!r}: backend {backend_name!r} encodes "
            f"{'/'.join(sorted(backend.modalities))}, not {modality!r}"
        )
    options = spec.get("options") or {}
    if not isinstance(options, Mapping):
        raise ValueError(f"feature {name!r}: options must be a mapping")
    bad = set(options) - backend.options
    if bad:
        accepted = ", ".join(sorted(backend.options)) or "none"
        raise ValueError(
            f"feature {name!r}: backend {backend_name!r} does not accept options "
            f"{sorted(bad)} (accepted: {accepted})"
        )
    return backend


def build_encoder(name: str, spec: Mapping[str, Any], threads: int | None = None) -> Encoder:
    """Build the encoder of feature ``name`` from its config spec.

    Raises ValueError for a bad spec (unknown backend, modality the backend does not
    serve, unknown option, unknown model); the backend's own errors if its model
    cannot be loaded.
    """
    backend = validate_spec(name, spec)
    encoder = backend.factory(
        str(spec["model"]),
        dict(spec.get("options") or {}),
        modality=spec["modality"],
        threads=threads,
    )
    if encoder.modality != spec["modality"]:
        raise ValueError(
            f"feature {name!r}: backend {backend.name!r} built a {encoder.modality} "
            f"encoder for a {spec['modality']} spec"
        )
    return encoder


def is_empty_text(text: str | None) -> bool:
    """True for a missing or blank transcription (encoded as a zero vector)."""
    return text is None or not str(text).strip()


# Backends that run on a GPU when the feature's ``device`` option allows it.
GPU_BACKENDS = frozenset({"transformers", "faster-whisper"})
GPU_DEFAULT_DEVICE = {"transformers": "auto", "faster-whisper": "cpu"}


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5")
# Parameters of a checkpoint whose name gives no size: by the size word in its name.
PARAMS_BY_SIZE_WORD = {"tiny": 40e6, "small": 120e6, "base": 120e6, "large": 650e6}
DEFAULT_PARAMS = 650e6
# Families whose size word undersells them (Whisper large is 1.55B parameters).
PARAMS_BY_FAMILY = {"whisper-large": 1.55e9, "whisper-medium": 769e6}
JOB_OVERHEAD_MB = 2000  # interpreter, libraries, one batch


def checkpoint_params(model: str) -> float:
    """Parameter count of a hub checkpoint, from its name: ``13B``/``6b``/``1.5B`` as
    billions, else its size word (tiny, small, base, large), else :data:`DEFAULT_PARAMS`."""
    name = model.rsplit("/", 1)[-1].lower()
    match = re.search(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z])", name)
    if match:
        return float(match[1]) * 1e9
    for family, params in PARAMS_BY_FAMILY.items():
        if family in name:
            return params
    for word, params in PARAMS_BY_SIZE_WORD.items():
        if re.search(rf"(?<![a-z]){word}(?![a-z])", name):
            return params
    return DEFAULT_PARAMS


def checkpoint_mb(spec: Mapping[str, Any]) -> float:
    """Megabytes of the feature's weights in the dtype it runs in: a local folder's weight
    files as stored; a hub id's parameter count (:func:`checkpoint_params`) at 2 bytes
    (float16/bfloat16, and ``auto`` on a GPU) or 4 (float32, ``auto`` on the CPU, and no
    dtype under ``protocol: reference``)."""
    model = str(spec.get("model", ""))
    path = Path(model).expanduser()
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES and p.is_file()]
        return sum(p.stat().st_size for p in files) / 1e6
    options = spec.get("options") or {}
    dtype = options.get("dtype", "auto")
    on_gpu = options.get("device", GPU_DEFAULT_DEVICE.get(spec.get("backend"), "cpu")) != "cpu"
    wide = dtype == "float32" or (dtype == "auto" and not on_gpu)
    # protocol: reference runs encoders in fp32 on a GPU too (causal LMs in fp16: sized
    # as fp32 here, on the safe side, unless their dtype is given)
    wide = wide or ("dtype" not in options and options.get("protocol") == "reference")
    return checkpoint_params(model) * (4 if wide else 2) / 1e6


def feature_resources(spec: Mapping[str, Any]) -> dict[str, int]:
    """Scheduler resources of one extraction job: ``gpu`` (0 or 1), ``mem_mb`` and
    ``gpu_mem_mb``.

    A ``transformers`` / ``faster-whisper`` feature whose ``device`` is ``auto`` or
    ``cuda`` asks for one GPU so that SLURM places it on a GPU node. Memory is sized from
    the checkpoint (:func:`checkpoint_mb`): host memory 1.3 x the weights plus
    :data:`JOB_OVERHEAD_MB` (weights are loaded in their target dtype, not as a full fp32
    copy first), GPU memory 1.2 x the weights plus the overhead; a 13B fp16 model gets
    about 36 GB of host memory, an eGeMAPS job 4 GB (override with ``--set-resources``).
    """
    backend = spec.get("backend")
    if backend not in GPU_BACKENDS:
        return {"gpu": 0, "mem_mb": 4000, "gpu_mem_mb": 0}
    options = spec.get("options") or {}
    device = options.get("device", GPU_DEFAULT_DEVICE[backend])
    gpu = int(device in ("auto", "cuda"))
    weights = checkpoint_mb(spec)
    return {
        "gpu": gpu,
        "mem_mb": int(JOB_OVERHEAD_MB + 1.3 * weights),
        "gpu_mem_mb": int(JOB_OVERHEAD_MB + 1.2 * weights) if gpu else 0,
    }


__all__ = [
    "BACKENDS",
    "GPU_BACKENDS",
    "GPU_DEFAULT_DEVICE",
    "MODALITIES",
    "SAMPLE_RATE",
    "Backend",
    "Encoder",
    "EncoderFactory",
    "EncoderOutputError",
    "build_encoder",
    "checkpoint_mb",
    "checkpoint_params",
    "feature_resources",
    "is_empty_text",
    "register_backend",
    "validate_spec",
]
