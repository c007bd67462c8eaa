"""Frames of a timeline of shots: each face warped into its expression, animated over
time, with speech-driven mouth motion and small head motion."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .expressions import ACTIONS, EXPRESSIONS, action_field, face_geometry
from .face_assets import FaceAsset
from .spec import FPS, FRAME_SIZE, SAMPLE_RATE


@dataclass(frozen=True)
class Shot:
    """One face on screen from ``start`` to ``end`` (s), speaking from ``speech_start``."""

    face: FaceAsset
    expression: str
    strength: float
    start: float
    end: float
    speech_start: float
    speech_end: float
    seed: int


class _ShotRenderer:
    def __init__(self, shot: Shot) -> None:
        import cv2

        self.shot = shot
        rng = np.random.default_rng(shot.seed)
        lm = shot.face.landmarks
        needed = set(EXPRESSIONS[shot.expression]) | {"jaw_open"}
        self.fields = {a: action_field(lm, a) for a in ACTIONS if a in needed}
        ys, xs = np.mgrid[0:FRAME_SIZE, 0:FRAME_SIZE].astype(np.float32)
        self.grid = np.stack([xs, ys], axis=-1)
        self.geo = face_geometry(lm)
        # expression timing: onset around speech start, ramp, gentle wobble
        self.onset = shot.speech_start + rng.uniform(-0.4, 0.3)
        self.ramp = rng.uniform(0.4, 1.0)
        self.wobble = (rng.uniform(0.3, 0.8), rng.uniform(0, 2 * np.pi))
        # head motion: sums of slow sinusoids
        self.motion = [
            (rng.uniform(1.5, 4.0), rng.uniform(0.15, 0.6), rng.uniform(0, 2 * np.pi))
            for _ in range(2)  # x shift
        ] + [
            (rng.uniform(1.0, 3.0), rng.uniform(0.15, 0.6), rng.uniform(0, 2 * np.pi))
            for _ in range(2)  # y shift
        ]
        self.scale = (rng.uniform(0.01, 0.03), rng.uniform(0.1, 0.4), rng.uniform(0, 2 * np.pi))
        self.rot = (rng.uniform(0.5, 2.5), rng.uniform(0.1, 0.4), rng.uniform(0, 2 * np.pi))
        self.gain = rng.uniform(0.9, 1.1)
        self.bias = rng.uniform(-10, 10)
        self.image = cv2.convertScaleAbs(shot.face.image, alpha=self.gain, beta=self.bias)

    def intensity(self, t: float) -> float:
        x = np.clip((t - self.onset) / self.ramp, 0.0, 1.0)
        ramp = x * x * (3 - 2 * x)
        amp, phase = self.wobble
        return float(self.shot.strength * ramp * (0.9 + 0.1 * np.sin(2 * np.pi * amp * t + phase)))

    def render(self, t: float, mouth_open: float) -> np.ndarray:
        import cv2

        k = self.intensity(t)
        disp = np.zeros_like(self.grid)
        jaw = 0.35 * mouth_open
        for action, weight in EXPRESSIONS[self.shot.expression].items():
            if action == "jaw_open":
                jaw += weight * k
            else:
                disp += np.float32(weight * k) * self.fields[action]
        jaw = min(jaw, 1.3)
        disp += np.float32(jaw) * self.fields["jaw_open"]
        maps = self.grid - disp
        frame = cv2.remap(
            self.image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REFLECT_101
        )
        if jaw > 0.04:
            frame = self._mouth_cavity(frame, jaw)
        # head motion
        dx = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in self.motion[:2])
        dy = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in self.motion[2:])
        s = 1.0 + self.scale[0] * np.sin(2 * np.pi * self.scale[1] * t + self.scale[2])
        angle = self.rot[0] * np.sin(2 * np.pi * self.rot[1] * t + self.rot[2])
        centre = tuple(float(v) for v in self.geo["nose"])
        m = cv2.getRotationMatrix2D(centre, float(angle), float(s))
        m[0, 2] += dx
        m[1, 2] += dy
        return cv2.warpAffine(
            frame,
            m,
            (FRAME_SIZE, FRAME_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )

    def _mouth_cavity(self, frame: np.ndarray, jaw: float) -> np.ndarray:
        import cv2

        g = self.geo
        iod = g["iod"]
        down = -g["up"]
        centre = g["mouth"] + 0.07 * iod * jaw * down
        width = 0.5 * float(np.linalg.norm(g["mouth_b"] - g["mouth_a"]))
        half_w = 0.62 * width * (1.0 - 0.15 * min(jaw, 1.0))
        half_h = 0.1 * iod * jaw
        angle = float(np.degrees(np.arctan2(g["ex"][1], g["ex"][0])))
        mask = np.zeros(frame.shape[:2], np.float32)
        shift = 4  # sub-pixel precision of cv2.ellipse
        cv2.ellipse(
            mask,
            (int(round(centre[0] * 16)), int(round(centre[1] * 16))),
            (int(round(half_w * 16)), max(1, int(round(half_h * 16)))),
            angle,
            0,
            360,
            1.0,
            -1,
            cv2.LINE_AA,
            shift,
        )
        mask = cv2.GaussianBlur(mask, (0, 0), 1.2)[..., None] * 0.85
        dark = np.array([38, 30, 52], np.float32)
        return (frame * (1 - mask) + dark * mask).astype(np.uint8)


def _mouth_envelope(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Mouth opening per video frame from the audio's short-time RMS, in [0, 1]."""
    hop = SAMPLE_RATE / FPS
    env = np.zeros(n_frames, np.float32)
    for i in range(n_frames):
        a = int(i * hop)
        seg = audio[a : int(a + hop)]
        if seg.size:
            env[i] = np.sqrt(np.mean(seg.astype(np.float64) ** 2))
    env = np.clip(env / 0.06, 0.0, 1.0)
    return np.where(env > 0.05, env, 0.0).astype(np.float32)


def render_frames(shots: Sequence[Shot], audio: np.ndarray, n_frames: int) -> Iterator[np.ndarray]:
    """BGR frames (FRAME_SIZE x FRAME_SIZE) for a timeline of shots with ``audio``."""
    env = _mouth_envelope(audio, n_frames)
    renderers: dict[int, _ShotRenderer] = {}
    for i in range(n_frames):
        t = i / FPS
        k = next((j for j, s in enumerate(shots) if s.start <= t < s.end), len(shots) - 1)
        if k not in renderers:
            renderers.clear()  # shots come in order: keep one renderer alive
            renderers[k] = _ShotRenderer(shots[k])
        yield renderers[k].render(t, float(env[i]))
