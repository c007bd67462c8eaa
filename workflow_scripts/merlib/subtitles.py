"""Subtitle files (SubRip ``.srt``, Advanced SubStation ``.ass``/``.ssa``) as timed cues.

Chinese subtitles come in many encodings: UTF-8 with or without a BOM, UTF-16 (with a
BOM) and GB18030 are read. Styling is stripped (HTML tags such as ``<i>`` and
``<font ...>``, ASS override blocks such as ``{\\an8}``, the ``\\N`` line breaks), cues
are sorted by start time and overlapping cues (two lines shown at once, as bilingual
subtitles do) are merged into one cue spanning both, their texts joined.

A file that holds no readable cue raises :class:`SubtitleError` naming the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SUBTITLE_SUFFIXES = (".srt", ".ass", ".ssa")


class SubtitleError(ValueError):
    """A subtitle file cannot be read as subtitles (encoding, format, no cue)."""


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float  # seconds
    text: str


def decode_subtitle_bytes(raw: bytes, path: str | os.PathLike = "<bytes>") -> str:
    """Text of a subtitle file: UTF-16 (BOM), UTF-8 (BOM or not), else GB18030."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SubtitleError(f"{path}: has a UTF-16 byte-order mark but is not UTF-16") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubtitleError(f"{path}: neither UTF-8, UTF-16 nor GB18030 text")


_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ASS_BLOCK = re.compile(r"\{[^{}]*\}")
_SPACES = re.compile(r"[ \t\u3000]+")


def clean_text(text: str) -> str:
    """Subtitle text without styling tags, on one line."""
    text = _ASS_BLOCK.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = text.replace("\\N", " ").replace("\\n", " ").replace("\\h", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return " ".join(line for line in lines if line)


_SRT_TIME = re.compile(
    r"(\d{1,2}):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
)


def _seconds(h: str, m: str, s: str, frac: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(frac) / 10 ** len(frac)


def parse_srt(text: str) -> list[Cue]:
    """Cues of SubRip text, in file order (styling stripped, empty cues kept)."""
    cues = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines):
            match = _SRT_TIME.search(line)
            if match:
                g = match.groups()
                start, end = _seconds(*g[:4]), _seconds(*g[4:])
                cues.append(Cue(start, end, clean_text("\n".join(lines[i + 1 :]))))
                break
    return cues


def _ass_time(value: str) -> float:
    h, m, s = value.strip().split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_ass(text: str) -> list[Cue]:
    """Dialogue cues of ASS/SSA text, using the [Events] section's Format line."""
    cues = []
    fields: list[str] | None = None
    in_events = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("["):
            in_events = stripped.lower() == "[events]"
            continue
        if not in_events or ":" not in stripped:
            continue
        key, value = stripped.split(":", 1)
        if key.lower() == "format":
            fields = [f.strip().lower() for f in value.split(",")]
        elif key.lower() == "dialogue" and fields:
            parts = value.split(",", len(fields) - 1)
            if len(parts) != len(fields):
                continue
            row = dict(zip(fields, (p.strip() for p in parts), strict=True))
            try:
                start, end = _ass_time(row["start"]), _ass_time(row["end"])
            except (KeyError, ValueError):
                continue
            cues.append(Cue(start, end, clean_text(row.get("text", ""))))
    return cues


def normalise_cues(cues: list[Cue]) -> list[Cue]:
    """Sorted by start, overlaps merged. A cue that ends before it starts is kept apart
    (not merged), so that the caller records it with a reason instead of losing it."""
    merged: list[Cue] = []
    invalid = [c for c in cues if c.end <= c.start]
    for cue in sorted((c for c in cues if c.end > c.start), key=lambda c: (c.start, c.end)):
        if merged and cue.start < merged[-1].end:
            last = merged[-1]
            text = last.text if cue.text in last.text else f"{last.text} {cue.text}".strip()
            merged[-1] = Cue(last.start, max(last.end, cue.end), text)
        else:
            merged.append(cue)
    return sorted(merged + invalid, key=lambda c: (c.start, c.end))


def read_subtitles(path: str | os.PathLike) -> list[Cue]:
    """Normalised cues of a ``.srt`` or ``.ass``/``.ssa`` file; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise SubtitleError(f"{path}: subtitle file does not exist")
    text = decode_subtitle_bytes(path.read_bytes(), path)
    if "\x00" in text:
        raise SubtitleError(f"{path}: binary data, not subtitle text")
    suffix = path.suffix.lower()
    if suffix == ".srt":
        cues = parse_srt(text)
    elif suffix in (".ass", ".ssa"):
        cues = parse_ass(text)
    else:
        raise SubtitleError(f"{path}: unknown subtitle format (expected {SUBTITLE_SUFFIXES})")
    cues = normalise_cues(cues)
    if not any(c.end > c.start for c in cues):
        raise SubtitleError(f"{path}: no subtitle cue with a valid time range found")
    return cues
