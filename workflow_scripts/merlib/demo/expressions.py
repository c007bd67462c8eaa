"""Facial expressions as smooth displacement fields around a face's five landmarks."""

from __future__ import annotations

import numpy as np

from .spec import FRAME_SIZE

# Facial actions. Each control point: (anchor, at_out, at_up, move_out, move_up, radius),
# in units of the face scale (the inter-ocular distance, see face_geometry). "eye" and
# "corner" (mouth corner) anchors are mirrored on both sides of the face, "out" pointing
# away from the midline; "mouth" is the mouth centre. The point at anchor + at_* moves by
# move_*, the displacement fading as a Gaussian of the given radius.
ACTION_POINTS: dict[str, tuple[tuple[str, float, float, float, float, float], ...]] = {
    "smile": (("corner", 0.0, 0.0, 0.11, 0.2, 0.22), ("corner", 0.05, 0.25, 0.0, 0.06, 0.2)),
    "cheek_raise": (("eye", 0.1, -0.45, 0.0, 0.07, 0.22), ("eye", 0.0, -0.1, 0.0, 0.04, 0.1)),
    "frown": (("corner", 0.0, 0.0, -0.02, -0.2, 0.2),),
    "eye_droop": (("eye", 0.0, 0.12, 0.0, -0.04, 0.1),),
    "brow_raise": (
        ("eye", -0.18, 0.38, 0.0, 0.2, 0.22),
        ("eye", 0.2, 0.38, 0.0, 0.18, 0.22),
        ("eye", 0.0, 0.12, 0.0, 0.05, 0.1),
    ),
    "inner_brow_raise": (("eye", -0.18, 0.38, -0.06, 0.22, 0.17),),
    "brow_lower": (
        ("eye", -0.18, 0.38, -0.1, -0.19, 0.19),
        ("eye", 0.2, 0.38, 0.0, -0.08, 0.19),
        ("eye", 0.0, 0.12, 0.0, -0.04, 0.1),
    ),
    "lip_press": (("corner", 0.0, 0.0, -0.09, 0.0, 0.14),),
    "lip_stretch": (("corner", 0.0, 0.0, 0.13, -0.05, 0.17),),
    "jaw_open": (
        ("mouth", 0.0, -0.08, 0.0, -0.22, 0.22),
        ("mouth", 0.0, -0.5, 0.0, -0.16, 0.4),
        ("mouth", 0.0, 0.06, 0.0, 0.04, 0.1),
    ),
}
ACTIONS: tuple[str, ...] = tuple(ACTION_POINTS)

# Expressions: weights of the facial actions at full intensity.
EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "angry": {"brow_lower": 1.0, "lip_press": 1.0},
    "happy": {"smile": 1.0, "cheek_raise": 1.0},
    "sad": {"frown": 1.0, "inner_brow_raise": 0.7, "eye_droop": 1.0},
    "worried": {"inner_brow_raise": 1.0, "lip_stretch": 1.0},
    "surprise": {"brow_raise": 1.0, "jaw_open": 1.0},
}


def face_geometry(landmarks: np.ndarray) -> dict[str, np.ndarray | float]:
    eye_a, eye_b, nose, mouth_a, mouth_b = (landmarks[i].astype(np.float64) for i in range(5))
    eye_dist = float(np.linalg.norm(eye_b - eye_a))
    ex = (eye_b - eye_a) / max(eye_dist, 1e-6)  # image-rightwards along the eye line
    up = np.array([ex[1], -ex[0]])  # towards the forehead
    mouth = (mouth_a + mouth_b) / 2
    # face scale: the eye distance, or the eye-mouth distance for faces seen in profile
    iod = max(eye_dist, float(np.linalg.norm(mouth - (eye_a + eye_b) / 2)))
    return {
        "iod": iod,
        "ex": ex,
        "up": up,
        "eye_a": eye_a,
        "eye_b": eye_b,
        "nose": nose,
        "mouth_a": mouth_a,
        "mouth_b": mouth_b,
        "mouth": mouth,
    }


def _action_points(
    landmarks: np.ndarray, action: str
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(centre, displacement, radius) in pixels of the control points of one action."""
    f = face_geometry(landmarks)
    iod, ex, up = f["iod"], f["ex"], f["up"]
    pts = []
    for anchor, at_out, at_up, move_out, move_up, radius in ACTION_POINTS[action]:
        if anchor == "mouth":
            places = [(f["mouth"], ex)]
        elif anchor == "eye":
            places = [(f["eye_a"], -ex), (f["eye_b"], ex)]
        else:
            places = [(f["mouth_a"], -ex), (f["mouth_b"], ex)]
        for origin, out in places:
            centre = origin + iod * (at_out * out + at_up * up)
            pts.append((centre, iod * (move_out * out + move_up * up), radius * iod))
    return pts


def action_field(landmarks: np.ndarray, action: str, size: int = FRAME_SIZE) -> np.ndarray:
    """Displacement field (size, size, 2) of one facial action at full intensity, pixels."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size, 2), np.float32)
    for centre, disp, radius in _action_points(landmarks, action):
        w = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * radius**2))
        field[..., 0] += np.float32(disp[0]) * w
        field[..., 1] += np.float32(disp[1]) * w
    return field


def expression_field(
    landmarks: np.ndarray, label: str, intensity: float = 1.0, size: int = FRAME_SIZE
) -> np.ndarray:
    """Displacement field (size, size, 2) of ``label``'s expression at ``intensity``."""
    field = np.zeros((size, size, 2), np.float32)
    for action, weight in EXPRESSIONS[label].items():
        field += np.float32(weight * intensity) * action_field(landmarks, action, size)
    return field
