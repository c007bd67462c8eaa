"""Text out of a speech recogniser, made fit for the text encoders, and measured.

- :func:`to_simplified`: Mandarin in simplified characters (OpenCC's ``t2s``). Whisper
  answers Mandarin in traditional characters for many clips, while the Chinese text
  encoders were trained on simplified text; punctuation is left as it is.
- :func:`cut_repetitions`: a phrase repeated over and over in a row (Whisper's decoding
  loop on crying, shouting or music: "能,能,能,能,...") is cut to one occurrence.
- :func:`is_hallucination`: text Whisper is known to write over silence or music
  (subtitle credits, "thanks for watching"), with no speech under it.
- :func:`character_error_rate` and :func:`cer_column`: CER after :func:`normalise_for_cer`
  (punctuation and spaces removed, simplified script, NFKC width, lower case).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

# What Whisper writes over music or silence in Chinese (subtitle credits, outros): matched
# on the normalised text, so punctuation and script do not matter.
HALLUCINATIONS = (
    "字幕由amaraorg社区提供",
    "字幕by索兰娅",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "优优独播剧场yoyotelevisionseriesexclusive",
    "谢谢观看",
    "谢谢收看",
    "中文字幕志愿者",
    "小编字幕",
)


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with traditional Chinese characters converted to simplified ones (OpenCC
    ``t2s``: characters and phrases; everything else, punctuation included, unchanged)."""
    return _converter().convert(text) if text else text


def cut_repetitions(text: str, min_repeats: int = 3, min_span: int = 6) -> tuple[str, int]:
    """``text`` with every run of one phrase repeated ``min_repeats`` or more times in a row,
    covering at least ``min_span`` characters, cut to the phrase once; and how many
    characters were cut. Short genuine reduplication ("哈哈哈", "对对对", "谢谢") stays."""
    if min_repeats < 2:
        raise ValueError(f"cut_repetitions: min_repeats must be >= 2, got {min_repeats}")
    pattern = re.compile(rf"(.{{1,30}}?)\1{{{min_repeats - 1},}}", re.DOTALL)
    cut = 0

    def keep_one(match: re.Match) -> str:
        nonlocal cut
        if len(match[0]) < min_span:
            return match[0]
        cut += len(match[0]) - len(match[1])
        return match[1]

    out = pattern.sub(keep_one, text)
    return out, cut


_DROP = re.compile(r"[\W_]+", re.UNICODE)


def normalise_for_cer(text: str | None) -> str:
    """What CER compares: NFKC (full-width to half-width), simplified script, lower case,
    and every character that is not a letter or a digit (punctuation, spaces) removed."""
    if not text:
        return ""
    text = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    return _DROP.sub("", text)


def is_hallucination(text: str) -> bool:
    """True when the whole of ``text`` is one of :data:`HALLUCINATIONS`, the phrases Whisper
    writes over music or silence."""
    norm = normalise_for_cer(text)
    return bool(norm) and any(norm == h or norm == h * 2 for h in HALLUCINATIONS)


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two sequences."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def character_errors(reference: str | None, hypothesis: str | None) -> tuple[int, int]:
    """(edit distance, reference length) in characters, both texts normalised by
    :func:`normalise_for_cer`."""
    ref, hyp = normalise_for_cer(reference), normalise_for_cer(hypothesis)
    return edit_distance(ref, hyp), len(ref)


def character_error_rate(reference: str | None, hypothesis: str | None) -> float:
    """CER of one pair; a reference with no characters gives 0.0 for an empty hypothesis
    and 1.0 otherwise."""
    errors, n = character_errors(reference, hypothesis)
    if n == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / n


def cer_column(references: Sequence[str | None], hypotheses: Sequence[str | None]) -> float:
    """Corpus CER of two aligned text columns (e.g. the release transcription and the ASR
    text of the labelled clips): total edits over total reference characters, pairs whose
    reference is empty or null left out. Raises ValueError when the columns differ in length
    or no pair has a reference."""
    if len(references) != len(hypotheses):
        raise ValueError(
            f"cer_column: {len(references)} references but {len(hypotheses)} hypotheses"
        )
    errors = total = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        e, n = character_errors(ref, hyp)
        if n:
            errors, total = errors + e, total + n
    if not total:
        raise ValueError("cer_column: no pair has a non-empty reference")
    return errors / total


__all__ = [
    "HALLUCINATIONS",
    "character_error_rate",
    "character_errors",
    "cer_column",
    "cut_repetitions",
    "edit_distance",
    "is_hallucination",
    "normalise_for_cer",
    "to_simplified",
]
