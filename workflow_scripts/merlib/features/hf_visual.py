"""``transformers`` visual encoders on face crops: image models per crop, VideoMAE per clip.

:class:`ImageEncoder` (CLIP, DINOv2, ViT) averages its per-crop embeddings over the
clip; :class:`VideoEncoder` (VideoMAE) takes ``frames`` crops sampled uniformly
(:func:`uniform_indices`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .hf_common import TransformersEncoder, TransformersOptions


class ImageEncoder(TransformersEncoder):
    """CLIP / DINOv2 / ViT on each face crop, averaged over the clip's crops."""

    modality = "visual"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel

        self.processor = self._image_processor()
        self.model = self._load(AutoModel)
        self.is_clip = hasattr(self.model, "get_image_features")
        if self.is_clip:
            self.dim = int(self.config.projection_dim)
        else:
            self.dim = int(getattr(self.config, "hidden_size", 0))

    def frame_embeddings(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        parts = []
        for batch in self._batches(len(crops), self.opts.batch_size * 4):
            pixels = self.processor(images=[crops[i] for i in batch], return_tensors="pt")
            x = pixels["pixel_values"].to(self.device, self.torch_dtype)
            with torch.inference_mode():
                if self.is_clip:
                    emb = self.model.get_image_features(pixel_values=x).pooler_output
                else:
                    out = self.model(pixel_values=x)
                    pooled = getattr(out, "pooler_output", None)
                    emb = pooled if pooled is not None else out.last_hidden_state.mean(1)
            parts.append(emb.float().cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def _encode(self, items: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        crops = [c for clip in items for c in clip]
        emb = self.frame_embeddings(crops)
        out = np.full((len(items), self.dim), np.nan, np.float32)
        start = 0
        for i, clip in enumerate(items):
            if len(clip):
                out[i] = emb[start : start + len(clip)].mean(0)
            start += len(clip)
        return out


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


__all__ = ["ImageEncoder", "VideoEncoder", "uniform_indices"]
