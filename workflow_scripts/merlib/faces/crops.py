"""Face crops: a square around the detection box (``box``) or the face aligned on its five
landmarks (``arcface``, :mod:`.alignment`), resized to a given side."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import VideoLoadingError
from .alignment import align_face
from .detection import Face

CROP_MARGIN = 1.25  # square crop side = margin x the larger side of the face box
FACE_ALIGNS = ("box", "arcface")


def crop_face(frame: np.ndarray, face: Face, size: int) -> np.ndarray:
    """A square crop around ``face`` (padded by edge replication), resized to ``size``."""
    side = max(2, int(round(max(face.w, face.h) * CROP_MARGIN)))
    cx, cy = face.x + face.w / 2.0, face.y + face.h / 2.0
    x0, y0 = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def aligned_crop(
    frame: np.ndarray, face: Face, align: str, size: int, path: Path, detector: str
) -> np.ndarray:
    """The crop of ``face`` that ``align`` asks for: ``box`` (a square around the detection
    box) or ``arcface`` (the five landmarks aligned onto the ArcFace template). A detector
    that gave no landmarks cannot align: a clear error naming ``path``, no fallback."""
    if align == "box":
        return crop_face(frame, face, size)
    if align == "arcface":
        if face.landmarks is None or len(face.landmarks) != 10:
            raise VideoLoadingError(
                f"{path}: face_align arcface needs the detector's five landmarks; "
                f"detector {detector!r} gave none"
            )
        return align_face(frame, np.reshape(face.landmarks, (5, 2)), size)
    raise ValueError(f"unknown face_align {align!r}: expected one of {FACE_ALIGNS}")
