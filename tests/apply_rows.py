"""Hand-made rows of an apply timeline (``APPLY_TIMELINE``) for unit tests."""

from __future__ import annotations

from merlib.labels import PROB_COLUMNS


def timeline_row(
    start, end, speaker, label, text="hello", note=None, face=None, modalities=None, p=0.9
) -> dict:
    """A turn of video ``v``; predicted as ``label`` with probability ``p`` (the others
    share the rest), or not predicted (``label`` None: no probabilities)."""
    probs = dict.fromkeys(PROB_COLUMNS)
    if label is not None:
        rest = (1.0 - p) / (len(PROB_COLUMNS) - 1)
        probs = {c: rest for c in PROB_COLUMNS} | {f"p_{label}": p}
    return {
        "video": "v",
        "name": f"v_{int(start * 1000):09d}",
        "start": start,
        "end": end,
        "speaker": speaker,
        "face_track": face,
        "text": text,
        "label": label,
        "confidence": p if label else None,
        "modalities": modalities if modalities is not None else ("audio,text" if label else ""),
        "note": note,
    } | probs
