"""Video blur: a frame downsampled by a power of two and brought back to its size."""

from __future__ import annotations

import math

import cv2
import numpy as np


def blur_frame(frame: np.ndarray, factor: int) -> np.ndarray:
    """Repeated ``pyrDown`` by ``factor`` (a power of two) then ``pyrUp`` back to its size."""
    if factor == 1:
        return frame
    levels = int(round(math.log2(factor)))
    if 2**levels != factor:
        raise ValueError(f"blur factor must be a power of two, got {factor}")
    sizes = []
    out = frame
    for _ in range(levels):
        sizes.append((out.shape[1], out.shape[0]))
        out = cv2.pyrDown(out)
    for size in reversed(sizes):
        out = cv2.pyrUp(out, dstsize=size)
    return out
