"""ASR measured on the user's own data: labelled clips with a release transcription are
also recognised, and the two texts compared (rule check_asr).

The release transcribes its labelled clips, so the transcription stage never runs ASR on
them and nobody sees how good the text of the unlabelled pool (all ASR) is. This module:

- :func:`check_sample`: which clips are checked, a deterministic sample of ``n`` labelled
  clips with a non-blank release text: those with the smallest SHA-1 of a salted name, so
  a rerun (or a larger ``n``, which keeps the smaller sample's clips) picks the same ones,
  whatever the shard count;
- :func:`check_clips`: per clip the release text, the ASR text (as
  :func:`merlib.transcripts.recognise_clip` makes it for a pool clip: silent or
  speech-free audio gives an empty text, which counts as deleting every character) and
  its character errors after :func:`merlib.asr_text.normalise_for_cer`;
- :func:`cer_summary`: the corpus CER (edits over reference characters, as
  ``bench/asr_mandarin.py`` reports) with a percentile bootstrap interval over clips, and
  the worst clips side by side.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .features.base import is_empty_text

if TYPE_CHECKING:  # imported where used: the Snakefile imports this module (check_sample)
    import numpy as np
    import pyarrow as pa

    from .transcripts import TranscriptParams

ASR = "asr"  # merlib.transcripts.ASR: the source of a text ASR wrote
SALT = b"merflow asr_check\0"
LEVEL = 0.95
RESAMPLES = 2000
WORST = 5


def sample_key(name: str) -> bytes:
    """The clip's rank in the sample (smallest first): SHA-1 of the salted name, so the
    sample does not follow the shard assignment (an unsalted SHA-1 of the name)."""
    return hashlib.sha1(SALT + name.encode("utf-8")).digest()


_NOT_COUNTED = re.compile(r"[\W_]+", re.UNICODE)


def has_characters(text: str | None) -> bool:
    """True when ``text`` keeps a character once CER's normalisation removes punctuation
    and spaces (:func:`merlib.asr_text.normalise_for_cer`; its script conversion never
    empties a text, so OpenCC is not needed here)."""
    if is_empty_text(text):
        return False
    return bool(_NOT_COUNTED.sub("", unicodedata.normalize("NFKC", text)))


def check_sample(clips: Iterable[Mapping[str, Any]], n: int) -> list[dict[str, Any]]:
    """Up to ``n`` of ``clips`` (dicts with ``name``, ``split``, ``transcription`` and
    ``shard``): labelled ones whose release text has a character CER can count (not blank,
    not only punctuation), those of smallest :func:`sample_key`, in that order."""
    if n < 0:
        raise ValueError(f"asr_check: the number of clips must be >= 0, got {n}")
    eligible = [
        clip
        for clip in clips
        if clip["split"] == "labeled" and has_characters(clip.get("transcription"))
    ]
    eligible.sort(key=lambda clip: sample_key(clip["name"]))
    return eligible[:n]


def check_clips(
    sample: Iterable[Mapping[str, Any]],
    audio_of: Callable[[str, list[str]], pa.Table | None],
    params: TranscriptParams,
    recognise: Callable,
) -> pa.Table:
    """ASR_CHECK rows of the ``sample`` (from :func:`check_sample`), in sample order.

    ``audio_of(shard, names)`` gives the AUDIO rows of ``names`` in that shard (None when
    the shard has no audio table); ``recognise`` is the ASR, as for
    :func:`merlib.transcripts.transcribe_shard`. Shards are read one at a time."""
    from .asr_text import character_errors
    from .schemas import ASR_CHECK, table_from_rows
    from .transcripts import recognise_clip

    sample = list(sample)
    by_shard: dict[str, list[Mapping[str, Any]]] = {}
    for clip in sample:
        by_shard.setdefault(clip["shard"], []).append(clip)
    rows: dict[str, dict[str, Any]] = {}
    for shard in sorted(by_shard):
        clips = by_shard[shard]
        audio = audio_of(shard, [c["name"] for c in clips])
        index = {}
        if audio is not None:
            index = {n: i for i, n in enumerate(audio.column("name").to_pylist())}
        for clip in clips:
            name, reference = clip["name"], clip["transcription"].strip()
            result = recognise_clip(name, audio, index.get(name), params, recognise)
            errors, ref_chars = character_errors(reference, result["text"])
            rows[name] = {
                "name": name,
                "shard": shard,
                "reference": reference,
                "asr": result["text"],
                "source": result["source"],
                "reason": result.get("reason"),
                "avg_logprob": result.get("avg_logprob") if result["source"] == ASR else None,
                "errors": errors,
                "ref_chars": ref_chars,
                "cer": errors / ref_chars,
            }
    return table_from_rows([rows[clip["name"]] for clip in sample], ASR_CHECK)


def bootstrap_interval(
    errors: np.ndarray,
    chars: np.ndarray,
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the corpus CER ``sum(errors) / sum(chars)``,
    resampling clips with replacement (a clip's characters share its speaker, noise and
    recording, so clips, not characters, are the independent units)."""
    import numpy as np

    errors, chars = np.asarray(errors, dtype=np.float64), np.asarray(chars, dtype=np.float64)
    if errors.size == 0 or chars.sum() <= 0:
        raise ValueError("bootstrap_interval: no clip with reference characters")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, errors.size, size=(resamples, errors.size))
    cers = errors[picks].sum(axis=1) / np.maximum(chars[picks].sum(axis=1), 1.0)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(cers, [tail, 1.0 - tail])
    return float(low), float(high)


def cer_summary(
    table: pa.Table, params: TranscriptParams, requested: int, worst: int = WORST
) -> dict[str, Any]:
    """The figure the report shows: clips and characters checked, corpus CER with its
    bootstrap interval, how many clips ASR left empty, the model, and the ``worst`` clips
    (highest CER, then most errors) side by side. ``cer`` is None when no clip was
    checked (``requested`` 0, or no labelled clip has a release text)."""
    out: dict[str, Any] = {
        "requested": requested,
        "clips": table.num_rows,
        "model": params.model,
        "backend": params.backend,
        "normalisation": "merlib.asr_text.normalise_for_cer (punctuation and spaces "
        "removed, NFKC, simplified script, lower case)",
    }
    if table.num_rows == 0:
        return {**out, "characters": 0, "cer": None, "ci_low": None, "ci_high": None}
    import numpy as np

    errors = np.asarray(table.column("errors").to_pylist())
    chars = np.asarray(table.column("ref_chars").to_pylist())
    low, high = bootstrap_interval(errors, chars)
    rows = worst_first(table).to_pylist()
    return {
        **out,
        "characters": int(chars.sum()),
        "errors": int(errors.sum()),
        "cer": float(errors.sum() / chars.sum()),
        "ci_low": low,
        "ci_high": high,
        "ci_level": LEVEL,
        "ci_method": f"percentile bootstrap over clips, {RESAMPLES} resamples",
        "empty_asr": sum(1 for r in rows if r["source"] != ASR),
        "worst": [
            {k: r[k] for k in ("name", "reference", "asr", "cer", "reason")} for r in rows[:worst]
        ],
    }


def worst_first(table: pa.Table) -> pa.Table:
    """``table`` sorted by CER, highest first (ties: more errors first, then name)."""
    from .schemas import ASR_CHECK, table_from_rows

    rows = sorted(table.to_pylist(), key=lambda r: (-r["cer"], -r["errors"], r["name"]))
    return table_from_rows(rows, ASR_CHECK)


__all__ = [
    "bootstrap_interval",
    "cer_summary",
    "check_clips",
    "check_sample",
    "has_characters",
    "sample_key",
    "worst_first",
]
