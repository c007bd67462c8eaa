"""Every Parquet table merflow writes: its pyarrow schema, declared once, and safe I/O.

Writers build tables with these schemas (:func:`write_table` checks them and writes
atomically: a temporary file in the same folder, then a rename, so a killed job never
leaves a half-written Parquet that a later job could read as complete). Readers check the
schema and name the file when it does not match (:func:`read_table`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path
from .labels import LABELS, MER2024, PROB_COLUMNS, LabelSet


class SchemaMismatchError(ValueError):
    """A Parquet file (or a table about to be written) does not have the expected schema."""


def _ids(*names: str) -> list[pa.Field]:
    return [pa.field(n, pa.string(), nullable=False) for n in names]


# Clip manifest: one row per clip that passed ingest. ``path`` is relative to data_root.
MANIFEST = pa.schema(
    _ids("name", "split", "path")
    + [
        pa.field("discrete", pa.string()),  # null for unlabelled clips
        pa.field("transcription", pa.string()),  # null when the release has none
        pa.field("shard", pa.string(), nullable=False),
    ]
)

# Ingest findings: one row per problem found in the release, with why. ``excluded`` is
# true when the clip (or CSV row) was left out of the manifest, false when the clip stays
# with a degraded field (e.g. an undecodable transcription treated as empty).
INGEST_REJECTS = pa.schema(
    _ids("name", "split", "path", "reason") + [pa.field("excluded", pa.bool_(), nullable=False)]
)

# Per shard: 16 kHz mono audio of each clip, as little-endian int16 PCM bytes.
AUDIO = pa.schema(
    _ids("name")
    + [
        pa.field("sample_rate", pa.int32(), nullable=False),
        pa.field("duration", pa.float64(), nullable=False),
        pa.field("pcm", pa.binary(), nullable=False),
    ]
)

# Per shard: face crops at a fixed frame rate, one row per sampled frame holding a face.
FACES = pa.schema(
    _ids("name")
    + [
        pa.field("frame", pa.int32(), nullable=False),  # index among sampled frames
        pa.field("time", pa.float64(), nullable=False),  # seconds from clip start
        pa.field("n_faces", pa.int32(), nullable=False),  # faces detected in that frame
        pa.field("score", pa.float32(), nullable=False),
        pa.field("x", pa.int32(), nullable=False),
        pa.field("y", pa.int32(), nullable=False),
        pa.field("w", pa.int32(), nullable=False),
        pa.field("h", pa.int32(), nullable=False),
        pa.field("crop", pa.binary(), nullable=False),  # PNG-encoded colour crop
    ]
)

# Per shard: clip modalities that could not be extracted (the clip itself stays).
MEDIA_REJECTS = pa.schema(_ids("name", "modality", "reason"))

# Per (feature, shard): clips a feature could not be computed for.
FEATURE_REJECTS = pa.schema(_ids("name", "reason"))

# Per (feature, shard): clips whose vector was computed but deserves a note, e.g.
# ``empty_transcription`` (a zero text vector). Flagged clips are in the feature table.
FEATURE_FLAGS = pa.schema(_ids("name", "flag"))

# Per shard (rule transcribe_clips, a stable contract: name, text, source, language,
# avg_logprob, model): the text each clip's text features read. source: release (the
# release's transcription), asr (recognised by ``model``), none (empty text; ``reason``
# says why, e.g. silent or undecodable audio). avg_logprob: the ASR's token-weighted mean
# log-probability (null unless source is asr).
TRANSCRIPTS = pa.schema(
    _ids("name", "text", "source")
    + [
        pa.field("language", pa.string()),
        pa.field("avg_logprob", pa.float64()),
        pa.field("model", pa.string()),
        pa.field("reason", pa.string()),
    ]
)


# ASR measured on labelled clips (rule check_asr, results/metrics/asr_check.parquet):
# one row per sampled clip with a release transcription (``reference``) and what ASR made
# of its audio (``asr``, empty with ``reason`` where ASR gave nothing). errors and
# ref_chars: edits and reference characters after merlib.asr_text.normalise_for_cer;
# cer = errors / ref_chars.
ASR_CHECK = pa.schema(
    _ids("name", "shard", "reference", "asr", "source")
    + [
        pa.field("reason", pa.string()),
        pa.field("avg_logprob", pa.float64()),
        pa.field("errors", pa.int64(), nullable=False),
        pa.field("ref_chars", pa.int64(), nullable=False),
        pa.field("cer", pa.float64(), nullable=False),
    ]
)


# Out-of-fold predictions on the labelled clips, one p_<label> column per label of the
# run's label set (config labels), in its order.
def oof_schema(labels: LabelSet = MER2024) -> pa.Schema:
    return pa.schema(
        _ids("name", "discrete", "predicted")
        + [pa.field("fold", pa.int32(), nullable=False)]
        + [pa.field(c, pa.float64(), nullable=False) for c in labels.prob_columns]
    )


# Predictions for the unlabelled pool (a stable contract: name, p_<label>..., discrete).
def predictions_schema(labels: LabelSet = MER2024) -> pa.Schema:
    return pa.schema(
        _ids("name")
        + [pa.field(c, pa.float64(), nullable=False) for c in labels.prob_columns]
        + _ids("discrete")
    )


# MER2024's (the default label set's)
OOF_PREDICTIONS = oof_schema()
PREDICTIONS = predictions_schema()

# Clips whose prediction fell back to the class prior because no feature could be computed.
FALLBACKS = pa.schema(_ids("name", "reason"))


# MER-OV: clips the LLM baseline could not label (they get an empty set), with why.
OV_REJECTS = pa.schema(_ids("name", "reason"))


# One row per clip found in the release (and per CSV row that names no clip): what became
# of it. status: trained (labelled, used in CV), predicted (unlabelled, predicted from its
# features), fallback (unlabelled, predicted from the class prior), excluded (left out).
# text_source: the TRANSCRIPTS source of the text its text features read (null when no
# transcript was made, e.g. a clip left out at ingest).
ACCOUNTING = pa.schema(
    _ids("name", "split", "status")
    + [pa.field("detail", pa.string()), pa.field("text_source", pa.string())]
)


# MER-NOISE (rule inject_noise): one row per noisy clip, what was drawn and where it is.
# Paths are relative to the working directory; clean_audio and noisy_audio are 16 kHz mono
# wav files of the same length, before and after mixing. rescaled: the mix overflowed
# int16 and was scaled by mix_scale (the SNR then holds for mix_scale x the clean audio).
NOISE = pa.schema(
    _ids("name")
    + [
        pa.field("snr_db", pa.int32(), nullable=False),
        pa.field("blur_factor", pa.int32(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
    ]
    + _ids("clean_audio", "noisy_audio", "video")
    + [
        pa.field("noise_files", pa.list_(pa.string()), nullable=False),  # in mixing order
        pa.field("noise_offset", pa.int64(), nullable=False),  # crop start, in samples
        pa.field("gain", pa.float64(), nullable=False),  # applied to the noise
        pa.field("rescaled", pa.bool_(), nullable=False),
        pa.field("mix_scale", pa.float64(), nullable=False),
        pa.field("duration", pa.float64(), nullable=False),  # seconds of audio
        pa.field("fps", pa.float64()),  # null: the clip has no video stream (audio only)
        pa.field("n_frames", pa.int32(), nullable=False),  # 0 for an audio-only clip
    ]
)

# MER-NOISE: evaluation clips that could not take noise, with why.
NOISE_REJECTS = pa.schema(_ids("name", "reason"))

# MER-NOISE robustness: WAF/accuracy of the same model on the clean and the noisy copy,
# over all clips (group "all") and per drawn SNR ("snr_db") and blur factor ("blur_factor").
ROBUSTNESS = pa.schema(
    _ids("group", "value")
    + [pa.field("n_clips", pa.int64(), nullable=False)]
    + [
        pa.field(c, pa.float64(), nullable=False)
        for c in ("waf_clean", "waf_noisy", "acc_clean", "acc_noisy")
    ]
)

# Collection (rules/collect.smk), per source video: candidate segments cut from it, by
# its subtitles (source "subtitle") or by voice activity plus speaker merging ("vad").
# A video that cannot be used at all gets one row named after it with a ``reason``.
COLLECT_SEGMENTS = pa.schema(
    _ids("name", "video", "source")
    + [
        pa.field("start", pa.float64(), nullable=False),  # seconds in the source video
        pa.field("end", pa.float64(), nullable=False),
        pa.field("text", pa.string()),  # transcription (subtitle text), null if none
        pa.field("reason", pa.string()),  # why the video gave no segment, else null
    ]
)

# Collection: every candidate segment with its decision (a stable contract: name, video,
# start, end, kept, reason). ``reason`` is null exactly when ``kept``. ``clip`` is the
# exported mp4 relative to collect.output_root (null until exported, or when not kept).
COLLECT_CLIPS = pa.schema(
    _ids("name", "video", "source")
    + [
        pa.field("start", pa.float64(), nullable=False),
        pa.field("end", pa.float64(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("kept", pa.bool_(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("frames", pa.int32()),  # sampled frames looked at
        pa.field("one_face_fraction", pa.float64()),  # share of them with exactly one face
        pa.field("face_distance", pa.float64()),  # largest face-identity distance to the median
        pa.field("clip", pa.string()),
        # issue 23: the counts behind the face decision (null where not looked at)
        pa.field("main_face_frames", pa.int32()),  # sampled frames with one main face
        pa.field("multi_face_frames", pa.int32()),  # sampled frames with 2+ detections
        pa.field("identity_faces", pa.int32()),  # main faces whose identity was compared
        pa.field("identity_agreeing", pa.int32()),  # of them, the largest one-person group
    ]
)


def features_schema(dim: int) -> pa.Schema:
    """Schema of a feature table: ``name`` and a fixed-size float32 ``embedding``."""
    if dim < 1:
        raise ValueError(f"embedding dimension must be >= 1, got {dim}")
    return pa.schema(
        _ids("name") + [pa.field("embedding", pa.list_(pa.float32(), dim), nullable=False)]
    )


def _check(table_schema: pa.Schema, expected: pa.Schema, where: str) -> None:
    if not table_schema.equals(expected, check_metadata=False):
        raise SchemaMismatchError(
            f"{where}: schema does not match.\nexpected:\n{expected}\nfound:\n{table_schema}"
        )


def empty_table(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def table_from_rows(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table from row dicts with exactly ``schema`` (missing nullable keys are null)."""
    if not rows:
        return schema.empty_table()
    return pa.Table.from_pylist(rows, schema=schema)


def write_table(table: pa.Table, path: str | os.PathLike, schema: pa.Schema) -> None:
    """Write ``table`` to ``path`` atomically after checking it has ``schema``."""
    path = Path(path)
    _check(table.schema, schema, f"table for {path}")
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | os.PathLike, schema: pa.Schema) -> pa.Table:
    """Read a Parquet file and check it has ``schema``; errors name the file."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise SchemaMismatchError(f"{path}: not a readable Parquet file ({exc})") from exc
    _check(table.schema, schema, str(path))
    return table


def read_features(path: str | os.PathLike) -> pa.Table:
    """Read a feature table, whatever its embedding dimension, and check its shape."""
    path = Path(path)
    table = pq.read_table(path)
    emb = table.schema.field("embedding") if "embedding" in table.schema.names else None
    if emb is None or not pa.types.is_fixed_size_list(emb.type):
        raise SchemaMismatchError(f"{path}: no fixed-size list column 'embedding'")
    _check(table.schema, features_schema(emb.type.list_size), str(path))
    return table


# --- Applying a trained model to new videos (rules/apply.smk, docs/apply.md) -------------
# Per video: every speech turn, with no dataset filter. ``name`` is the turn's clip name
# (the video id and start in ms); a video that cannot be segmented is one row named after
# it over the whole video, ``usable`` false, with the reason in ``note``. ``speaker`` is a
# voice cluster id stable within the video (S1, S2...); ``face_track`` a face cluster id
# stable within the video (F1, F2...: the same face in several turns), null when the turn's
# frames do not hold one face of one person (``note`` says why; it also says when the face
# is not its speaker's usual one).
APPLY_TURNS = pa.schema(
    _ids("name", "video", "file")
    + [
        pa.field("start", pa.float64(), nullable=False),
        pa.field("end", pa.float64(), nullable=False),
        pa.field("speaker", pa.string()),
        pa.field("face_track", pa.string()),
        pa.field("one_face_fraction", pa.float64()),
        pa.field("usable", pa.bool_(), nullable=False),  # exported as a clip and predicted
        pa.field("note", pa.string()),
    ]
)

# Per video: the emotion timeline, one row per turn of APPLY_TURNS (a stable contract:
# start, end, speaker, face_track, text, label, p_<label>..., modalities, note). label and
# the probabilities are null for a turn that could not be predicted (``note`` says why);
# ``modalities`` lists those with a usable feature, comma-separated ("" for none).
APPLY_TIMELINE = pa.schema(
    _ids("video", "name")
    + [
        pa.field("start", pa.float64(), nullable=False),
        pa.field("end", pa.float64(), nullable=False),
        pa.field("speaker", pa.string()),
        pa.field("face_track", pa.string()),
        pa.field("text", pa.string()),
        pa.field("label", pa.string()),
    ]
    + [pa.field(c, pa.float64()) for c in PROB_COLUMNS]
    + [
        pa.field("confidence", pa.float64()),  # the label's probability
        pa.field("modalities", pa.string(), nullable=False),
        pa.field("note", pa.string()),
    ]
)

# Per video: each speaker's share of speaking time per emotion (predicted turns only).
APPLY_SUMMARY = pa.schema(
    _ids("video", "speaker")
    + [
        pa.field("turns", pa.int64(), nullable=False),
        pa.field("seconds", pa.float64(), nullable=False),  # of predicted turns
        pa.field("unpredicted_turns", pa.int64(), nullable=False),
    ]
    + [pa.field(f"share_{label}", pa.float64(), nullable=False) for label in LABELS]
)
