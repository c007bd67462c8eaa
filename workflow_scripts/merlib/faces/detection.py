"""Face detection with YuNet: OpenCV's ``FaceDetectorYN`` with the OpenCV Zoo ONNX file
shipped in ``models/yunet/`` (the default: about twice as fast) or the ``yuface`` wheel
(weights compiled in). Both give a box, a score and five landmarks per face."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# The YuNet ONNX shipped in the repository (MIT, see models/yunet/LICENSE).
YUNET_ONNX = (
    Path(__file__).resolve().parents[3] / "models" / "yunet" / "face_detection_yunet_2026may.onnx"
)


@dataclass(frozen=True)
class Face:
    score: float
    x: int
    y: int
    w: int
    h: int
    # The five YuNet landmarks (right eye, left eye, nose tip, right and left mouth
    # corners) as x0, y0, ..., x4, y4 in the detection frame's pixels.
    landmarks: tuple[float, ...] | None = None


Detector = Callable[[np.ndarray], list[Face]]


def make_detector(kind: str, model: str | None = None, score: float = 0.6) -> Detector:
    """A YuNet face detector: ``yuface`` (built in) or ``opencv`` (``model`` = ONNX path;
    None = the ONNX shipped in ``models/yunet/``)."""
    if kind == "yuface":
        import yuface

        def detect(frame: np.ndarray) -> list[Face]:
            scores, boxes, marks = yuface.detect(np.ascontiguousarray(frame), conf=score)
            return [
                Face(float(s) / 100.0, *(int(v) for v in box), tuple(float(v) for v in mark))
                for s, box, mark in zip(scores, boxes, marks, strict=True)
            ]

        return detect
    if kind == "opencv":
        model = YUNET_ONNX if model is None else model
        if not model or not Path(model).is_file():
            raise FileNotFoundError(f"YuNet ONNX model not found: {model!r}")
        net = cv2.FaceDetectorYN.create(str(model), "", (320, 320), score, 0.3, 5000)

        def detect(frame: np.ndarray) -> list[Face]:
            h, w = frame.shape[:2]
            net.setInputSize((w, h))
            _, found = net.detect(frame)
            if found is None:
                return []
            return [
                Face(
                    float(r[-1]), *(int(round(v)) for v in r[:4]), tuple(float(v) for v in r[4:14])
                )
                for r in found
            ]

        return detect
    raise ValueError(f"unknown face detector {kind!r}: expected 'yuface' or 'opencv'")


class ThreadDetectors:
    """One detector per thread, made on the thread's first frame: an OpenCV network is not
    safe to share between threads. yuface's detections are serialised by one lock: its
    thread safety is not documented. The calling thread's detector is made at once, so a
    missing model fails before any work starts."""

    def __init__(self, kind: str, model: str | None = None, score: float = 0.6):
        self.kind, self.model, self.score = kind, model, score
        self.local = threading.local()
        self.local.detect = self._make()
        self.lock = threading.Lock()

    def _make(self) -> Detector:
        return make_detector(self.kind, self.model, self.score)

    def get(self) -> Detector:
        detect = getattr(self.local, "detect", None)
        if detect is None:
            detect = self.local.detect = self._make()
        if self.kind != "yuface":
            return detect

        def serialised(frame: np.ndarray) -> list[Face]:
            with self.lock:
                return detect(frame)

        return serialised
