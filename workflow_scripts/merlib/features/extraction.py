"""Per-shard extraction: one feature's vectors for the clips of a shard.

:func:`extract_shard` decodes each clip's input from the shard tables (:func:`decode_pcm`
for audio, :func:`decode_crop` for face crops, the manifest's transcription for text),
runs the feature's encoder over them in batches and returns a feature table
(:func:`features_table`) and a rejects table; :func:`feature_flags` lists the encoded
clips whose text vector is the zero vector of an empty transcription.
:func:`encode_shard` does the same with an encoder already built, and
:func:`extract_shards` runs it over several shards with one model load (a feature job
over several shards, ``feature_jobs.shards_per_job``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import pyarrow as pa

from ..errors import AudioLoadingError, MediaError, NoFaceError, VideoLoadingError
from ..progress import Progress
from ..schemas import FEATURE_FLAGS, FEATURE_REJECTS, features_schema, table_from_rows
from .base import SAMPLE_RATE, Encoder, build_encoder, is_empty_text

log = logging.getLogger(__name__)


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
                raise NoFaceError(
                    f"clip {name}: no face crop (no row in the shard's faces table; the "
                    "clip's media (visual) reject says why: no face found, no video track, ...)"
                )
            return [decode_crop(name, frame, crop) for frame, crop in rows]
        return self._texts[position]


class _ByName:
    """The input of an encoder that reads clips by name (precomputed files)."""

    def __init__(self, encoder: Encoder):
        self._load = encoder.load

    def get(self, position: int, name: str) -> Any:
        return self._load(name)


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
    """Compute feature ``feature`` for every clip of a shard: :func:`build_encoder`, then
    :func:`encode_shard` (see there). A job over several shards builds the encoder once
    and calls :func:`encode_shard` per shard instead (:func:`extract_shards`)."""
    encoder = build_encoder(feature, spec, threads=threads)
    return encode_shard(feature, encoder, manifest, audio, faces, batch_size=batch_size)


def encode_shard(
    feature: str,
    encoder: Encoder,
    manifest: pa.Table,
    audio: pa.Table | None,
    faces: pa.Table | None,
    batch_size: int = 32,
) -> tuple[pa.Table, pa.Table]:
    """Compute feature ``feature`` with a built ``encoder`` for every clip of a shard.

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
    names: list[str] = manifest.column("name").to_pylist()
    _unique_index(manifest, "the manifest")
    items = (
        _ByName(encoder)
        if encoder.reads_names
        else _Items(encoder.modality, manifest, audio, faces)
    )

    kept_names: list[str] = []
    kept_rows: list[np.ndarray] = []
    rejects: list[dict[str, str]] = []
    n_empty_text = 0
    progress = Progress(f"feature {feature}", len(names))
    for batch in _batches(len(names), batch_size):
        batch_names: list[str] = []
        batch_items: list[Any] = []
        for position in batch:
            name = names[position]
            try:
                item = items.get(position, name)
            except MediaError as exc:  # precomputed: FeatureFileError, a MediaError too
                rejects.append({"name": name, "reason": str(exc)})
                continue
            if encoder.modality == "text" and not encoder.reads_names and is_empty_text(item):
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
                modality = None if encoder.reads_names else encoder.modality
                reason = _non_finite_reason(name, feature, modality, item)
                rejects.append({"name": name, "reason": reason})
        progress.update(len(batch))

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


ShardInput = tuple[str, pa.Table, "pa.Table | None", "pa.Table | None"]


def extract_shards(
    feature: str,
    spec: Mapping[str, Any],
    shards: Iterable[ShardInput],
    batch_size: int = 32,
    threads: int | None = None,
) -> Iterator[tuple[str, pa.Table, pa.Table, pa.Table]]:
    """Feature ``feature`` for several shards with one model load: the encoder is built
    once, then each ``(shard, manifest, audio, faces)`` of ``shards`` (read lazily, one
    shard in memory at a time) is encoded as :func:`encode_shard` does and yielded as
    ``(shard, features, rejects, flags)`` (flags: :func:`feature_flags`). The load and
    each shard's time are logged (wall and CPU seconds), the figures the model-load share
    of a job is measured from."""
    wall, cpu = time.perf_counter(), time.process_time()
    encoder = build_encoder(feature, spec, threads=threads)
    log.info(
        "feature %s: model loaded in %.2f s (%.2f s CPU)",
        feature,
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )
    for shard, manifest, audio, faces in shards:
        wall, cpu = time.perf_counter(), time.process_time()
        features, rejects = encode_shard(feature, encoder, manifest, audio, faces, batch_size)
        log.info(
            "feature %s: shard %s, %d clips in %.2f s (%.2f s CPU)",
            feature,
            shard,
            manifest.num_rows,
            time.perf_counter() - wall,
            time.process_time() - cpu,
        )
        yield shard, features, rejects, feature_flags(spec, manifest, features)


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
    and precomputed features have no flags."""
    if spec.get("modality") != "text" or spec.get("backend") == "precomputed":
        return FEATURE_FLAGS.empty_table()  # a precomputed vector is the organisers' own
    encoded = set(features.column("name").to_pylist())
    rows = [
        {"name": n, "flag": EMPTY_TRANSCRIPTION}
        for n in empty_transcriptions(manifest)
        if n in encoded
    ]
    return table_from_rows(rows, FEATURE_FLAGS)


__all__ = [
    "EMPTY_TRANSCRIPTION",
    "ShardInput",
    "decode_crop",
    "decode_pcm",
    "empty_transcriptions",
    "encode_shard",
    "extract_shards",
    "extract_shard",
    "feature_flags",
    "features_table",
]
