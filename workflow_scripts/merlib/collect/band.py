"""Burned-in subtitles as utterance-boundary evidence, without OCR: the times where text
appears in, disappears from or changes in the bottom band of the frame
(:func:`band_changes`).

Each sampled band (grayscale) gives a stroke mask: thin bright strokes on a darker
surround (a white top-hat above ``STROKE_CONTRAST`` on pixels brighter than
``STROKE_LEVEL``), as white or yellow subtitle text on a box or outline is. A mask looks
like a line of text when it holds at least ``MIN_PIXELS`` per 640 px of width and
``STRIP_SHARE`` of it lies in one horizontal strip of ``STRIP_HEIGHT`` of the band, in
thin strokes (a mean horizontal run of at most ``MAX_RUN`` pixels: a collar, a shelf edge
or a lit floor give longer runs);
a cue starts where such a mask is found again (``KEEP`` of it) in the next sample, and
its strokes (those seen in both samples) are then followed: the cue ends at the first
sample that has lost more than ``1 - KEEP`` of them. Scenery that moves does not repeat
from one sample to the next, scenery that fills the band is not a strip, and strokes the
picture adds behind a cue (a cut, a reaction shot) do not end it: only its own strokes
going do. A band that never holds text gives no events.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from ..av.decode import decode_bottom_band

WIDTH = 640  # bands are scaled to this width before anything is measured
STROKE_CONTRAST = 120  # white top-hat (9x9) of a stroke pixel, grey levels
STROKE_LEVEL = 200  # a stroke pixel is at least this bright (white, yellow)
MIN_PIXELS = 150  # stroke pixels of a line of text, per 640 px of band width
STRIP_HEIGHT = 0.4  # a line of text fits in a strip this share of the band high
STRIP_SHARE = 0.7  # ...which holds at least this share of its stroke pixels
MAX_RUN = 4.5  # mean horizontal run of a line's stroke pixels (text: thin strokes)
KEEP = 0.6  # share of a cue's strokes found again (within 1 px) while it stays

_TOPHAT = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
_NEAR = np.ones((3, 3), np.uint8)


def stroke_mask(band: np.ndarray) -> np.ndarray:
    """Thin bright strokes on a darker surround in a grayscale band (bool)."""
    tophat = cv2.morphologyEx(band, cv2.MORPH_TOPHAT, _TOPHAT)
    return (tophat > STROKE_CONTRAST) & (band > STROKE_LEVEL)


def looks_like_text(mask: np.ndarray) -> bool:
    """Enough stroke pixels, most of them in one horizontal strip, in thin strokes (a line
    of text)."""
    total = int(mask.sum())
    if total < MIN_PIXELS * mask.shape[1] / WIDTH:
        return False
    runs = int((mask[:, 1:] & ~mask[:, :-1]).sum() + mask[:, 0].sum())
    if total > MAX_RUN * runs:
        return False
    rows = mask.sum(axis=1)
    strip = max(1, int(round(STRIP_HEIGHT * mask.shape[0])))
    densest = int(np.convolve(rows, np.ones(strip, int), mode="valid").max())
    return densest >= STRIP_SHARE * total


def _found_again(mask: np.ndarray, other: np.ndarray) -> float:
    """The share of ``mask``'s pixels that ``other`` holds within one pixel."""
    total = int(mask.sum())
    if total == 0:
        return 0.0
    near = cv2.dilate(other.astype(np.uint8), _NEAR).astype(bool)
    return float((mask & near).sum()) / total


def band_events(bands: list[np.ndarray], fps: float) -> list[float]:
    """Times (s) where text appears, disappears or changes in ``bands`` (grayscale, band
    ``k`` on screen at ``k / fps``): each event halfway between the two samples it falls
    between, so within half a sampling step of the true change."""
    masks = [stroke_mask(b) for b in bands]
    events: list[float] = []
    cue = None  # the strokes of the cue on screen
    for i, mask in enumerate(masks):
        at = (i - 0.5) / fps
        if cue is not None:
            if _found_again(cue, mask) >= KEEP:
                continue
            events.append(at)  # the cue went (or changed)
            cue = None
        if i + 1 < len(masks) and looks_like_text(mask):
            stable = mask & cv2.dilate(masks[i + 1].astype(np.uint8), _NEAR).astype(bool)
            if stable.sum() >= KEEP * mask.sum() and looks_like_text(stable):
                cue = stable
                if not events or events[-1] != at:
                    events.append(max(at, 0.0))
    return events


def band_changes(
    video_path: str | os.PathLike, fps: float, fraction: float, timeout: float = 3600
) -> list[float]:
    """:func:`band_events` of the bottom ``fraction`` of ``video_path`` sampled at ``fps``."""
    return band_events(decode_bottom_band(video_path, fps, fraction, WIDTH, timeout), fps)
