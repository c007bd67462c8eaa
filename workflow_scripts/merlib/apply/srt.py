"""The timeline as subtitles any video player shows over the film:
``[speaker] label (p) - text`` per turn (rule ``render_apply_timeline``)."""

from __future__ import annotations

import pyarrow as pa


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm``."""
    ms = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def cue_text(row: dict) -> str:
    speaker = f"[{row['speaker']}]" if row["speaker"] else "[?]"
    if row["label"] is None:
        head = f"{speaker} no emotion ({row['note'] or 'not predicted'})"
    else:
        head = f"{speaker} {row['label']} ({row['confidence']:.2f})"
    text = (row["text"] or "").replace("\n", " ").strip()
    return f"{head} - {text}" if text else head


def timeline_srt(timeline: pa.Table) -> str:
    """One cue per turn with a positive duration, in time order, numbered from 1."""
    rows = sorted(
        (r for r in timeline.to_pylist() if r["end"] > r["start"]), key=lambda r: r["start"]
    )
    cues = [
        f"{i}\n{srt_time(r['start'])} --> {srt_time(r['end'])}\n{cue_text(r)}\n"
        for i, r in enumerate(rows, 1)
    ]
    return "\n".join(cues)
