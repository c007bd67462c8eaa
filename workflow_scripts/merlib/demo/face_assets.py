"""The faces of the demo corpus: scikit-image's photos framed square, with the five
landmarks YuNet finds on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import FRAME_SIZE


@dataclass(frozen=True)
class FaceAsset:
    """A face photo framed at FRAME_SIZE x FRAME_SIZE (BGR uint8) and its 5 landmarks.

    Landmarks (x, y): the eye on the image's left, the other eye, the nose tip, the mouth
    corner on the image's left, the other mouth corner (YuNet's order).
    """

    face_id: str
    image: np.ndarray
    landmarks: np.ndarray


def _frame_square(img: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    import cv2

    pad = int(side)
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    x0, y0 = int(round(cx - side / 2)) + pad, int(round(cy - side / 2)) + pad
    crop = padded[y0 : y0 + int(side), x0 : x0 + int(side)]
    interp = cv2.INTER_AREA if side > FRAME_SIZE else cv2.INTER_CUBIC
    return cv2.resize(crop, (FRAME_SIZE, FRAME_SIZE), interpolation=interp)


def _lfw_frame(face: np.ndarray, scale: int = 7) -> np.ndarray:
    """A 25x25 LFW face upscaled, on a smooth background shaded like its own edges."""
    import cv2

    gray = np.clip(face * 255.0 + 0.5, 0, 255).astype(np.uint8)
    side = 25 * scale
    up = cv2.resize(gray, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    a = (FRAME_SIZE - side) // 2
    b = FRAME_SIZE - side - a
    edge = np.concatenate([up[:, :6], up[:, -6:]], axis=1).mean(axis=1)  # per row
    rows = np.concatenate([np.full(a, edge[0]), edge, np.full(b, edge[-1])])
    background = np.repeat(rows[:, None], FRAME_SIZE, axis=1).astype(np.float32)
    background = cv2.GaussianBlur(background, (0, 0), 12)
    padded = cv2.copyMakeBorder(up, a, b, a, b, cv2.BORDER_REPLICATE)
    mask = np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32)
    mask[a + 3 : a + side - 3, a + 3 : a + side - 3] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), 4)
    out = mask * padded + (1 - mask) * background
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _landmarks(image: np.ndarray) -> np.ndarray | None:
    import yuface

    scores, _boxes, marks = yuface.detect(image, conf=0.5)
    if len(scores) == 0:
        return None
    best = int(np.argmax(scores))
    if scores[best] < 75:
        return None
    return marks[best].astype(np.float32).reshape(5, 2)


def load_face_assets() -> list[FaceAsset]:
    """Every usable face: astronaut, cameraman and the LFW faces YuNet finds confidently."""
    import cv2
    from skimage import data

    candidates: list[tuple[str, np.ndarray]] = []
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    candidates.append(("astronaut", _frame_square(astronaut, 222.5, 122.0, 236)))
    camera = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    candidates.append(("camera", _frame_square(camera, 228.0, 150.0, 176)))
    lfw = data.lfw_subset()[:100]  # the first 100 images are faces
    candidates += [(f"lfw_{i:03d}", _lfw_frame(face)) for i, face in enumerate(lfw)]
    assets = []
    for face_id, image in candidates:
        marks = _landmarks(image)
        if marks is not None:
            assets.append(FaceAsset(face_id, np.ascontiguousarray(image), marks))
    return assets
