"""``transformers`` visual encoders on face crops: image models per crop, VideoMAE per clip.

:class:`ImageEncoder` (CLIP, DINOv2, ViT) averages its per-crop embeddings over the
clip (every crop, or ``image_frames`` crops resampled uniformly); each crop's embedding is
``pooler_output`` / CLIP's projection, or with ``pooling: token_sum`` the last layer's
states before the final layernorm summed over all tokens (MERTools' DINOv2; see
:mod:`merlib.features.hf_reference`). :class:`VideoEncoder` (VideoMAE) takes ``frames``
crops sampled uniformly (:func:`uniform_indices`).

On a GPU :class:`ImageEncoder` preprocesses the crops on the device
(:class:`merlib.features.image_tensors.TensorImagePreprocess`: the processor's own resize,
centre crop and normalisation as tensor operations, within one uint8 level of its PIL
output) instead of through the image processor on the CPU; on the CPU, and under
``protocol: reference``, it keeps the processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .hf_common import TransformersEncoder, TransformersOptions
from .hf_reference import image_frames, image_pooling, is_reference
from .image_tensors import TensorImagePreprocess

PREPROCESS = ("auto", "tensor", "processor")


class ImageEncoder(TransformersEncoder):
    """CLIP / DINOv2 / ViT on each face crop, averaged over the clip's crops."""

    modality = "visual"

    def __init__(
        self,
        model: str,
        opts: TransformersOptions,
        threads: int | None = None,
        preprocess: str = "auto",
    ):
        """``preprocess``: ``tensor`` (the processor's steps as tensor operations on the
        device), ``processor`` (the image processor, on the CPU), or ``auto`` (default):
        ``tensor`` on a GPU unless ``protocol: reference``; ``processor`` on the CPU, or
        where the processor does something the tensor path does not reproduce."""
        super().__init__(model, opts, threads)
        from transformers import AutoModel

        if preprocess not in PREPROCESS:
            raise ValueError(f"preprocess must be one of {PREPROCESS}, got {preprocess!r}")
        self.processor = self._image_processor()
        self.tensor_preprocess = None
        if tensor_preprocessing(preprocess, self.device, opts):
            self.tensor_preprocess = TensorImagePreprocess.from_processor(self.processor)
            if self.tensor_preprocess is None and preprocess == "tensor":
                raise ValueError(f"{model!r}: its image processor's steps have no tensor form")
        self.model = self._load(AutoModel)
        self.is_clip = hasattr(self.model, "get_image_features")
        model_type = str(getattr(self.config, "model_type", ""))
        self.pooling = image_pooling(opts, model_type)
        self.image_frames = image_frames(opts, model_type)
        if self.is_clip and self.pooling == "token_sum":
            raise ValueError(
                f"transformers: pooling token_sum is for single-tower image models (DINOv2, "
                f"ViT); {model!r} is CLIP, pooled by its projection (pooling: pooler)"
            )
        if self.is_clip:
            self.dim = int(self.config.projection_dim)
        else:
            self.dim = int(getattr(self.config, "hidden_size", 0))

    def frame_embeddings(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        parts = []
        for batch in self._batches(len(crops), self.opts.batch_size * 4):
            if self.tensor_preprocess is not None:
                x = self.tensor_preprocess([crops[i] for i in batch], self.device, self.torch_dtype)
            else:
                pixels = self.processor(images=[crops[i] for i in batch], return_tensors="pt")
                x = pixels["pixel_values"].to(self.device, self.torch_dtype)
            with torch.inference_mode():
                if self.is_clip:
                    emb = self.model.get_image_features(pixel_values=x).pooler_output
                elif self.pooling == "token_sum":
                    states = self.model(pixel_values=x, output_hidden_states=True).hidden_states
                    emb = token_sum(states)
                else:
                    out = self.model(pixel_values=x)
                    pooled = getattr(out, "pooler_output", None)
                    emb = pooled if pooled is not None else out.last_hidden_state.mean(1)
            parts.append(emb.float().cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def _encode(self, items: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        # each clip's weights over its crops; a crop of weight 0 (not drawn) is not encoded
        weights = [crop_weights(len(clip), self.image_frames) for clip in items]
        picked = [np.flatnonzero(w) for w in weights]
        emb = self.frame_embeddings([items[i][j] for i, js in enumerate(picked) for j in js])
        out = np.full((len(items), self.dim), np.nan, np.float32)
        start = 0
        for i, js in enumerate(picked):
            if len(js):
                out[i] = weights[i][js] @ emb[start : start + len(js)]
            start += len(js)
        return out


def tensor_preprocessing(preprocess: str, device: str, opts: TransformersOptions) -> bool:
    """Whether :class:`ImageEncoder` preprocesses as tensors (see its ``preprocess``)."""
    if preprocess == "auto":
        return device != "cpu" and not is_reference(opts)
    return preprocess == "tensor"


def token_sum(hidden_states: Sequence[Any]):
    """``(B, D)``: the last entry of ``output_hidden_states`` (the last layer's output, before
    the model's final layernorm) summed over all its tokens."""
    return hidden_states[-1].float().sum(1)


def crop_weights(n: int, frames: int) -> np.ndarray:
    """Weights of a clip's ``n`` crop embeddings in its average: ``1/n`` each for
    ``frames == 0``; else the share of the ``frames`` uniformly resampled indices
    (:func:`uniform_indices`) that fall on each crop, so a crop drawn twice counts twice
    while each distinct crop is encoded once."""
    if not n:
        return np.zeros(0, np.float32)
    if not frames:
        return np.full(n, 1.0 / n, np.float32)
    return (np.bincount(uniform_indices(n, frames), minlength=n) / frames).astype(np.float32)


def uniform_indices(n: int, k: int) -> np.ndarray:
    """``k`` indices, the middle of ``k`` equal segments of ``n`` frames (repeats if n < k)."""
    return ((np.arange(k) + 0.5) * n / k).astype(int) if n else np.zeros(0, int)


class VideoEncoder(TransformersEncoder):
    """VideoMAE on ``frames`` face crops sampled uniformly over the clip."""

    modality = "visual"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel

        self.processor = self._image_processor()
        self.model = self._load(AutoModel)
        self.n_frames = int(getattr(self.config, "num_frames", opts.frames))
        self.dim = int(self.config.hidden_size)

    def _encode(self, items: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        import torch

        out = np.full((len(items), self.dim), np.nan, np.float32)
        keep = [i for i, clip in enumerate(items) if len(clip)]
        for batch in self._batches(len(keep)):
            videos = []
            for k in batch:
                clip = items[keep[k]]
                videos.append([clip[j] for j in uniform_indices(len(clip), self.n_frames)])
            x = self.processor(videos, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                states = self.model(pixel_values=x.to(self.device, self.torch_dtype))
            out[[keep[k] for k in batch]] = states.last_hidden_state.float().mean(1).cpu().numpy()
        return out


__all__ = [
    "ImageEncoder",
    "VideoEncoder",
    "crop_weights",
    "tensor_preprocessing",
    "token_sum",
    "uniform_indices",
]
