"""An image processor's resize, centre crop, rescale and normalise as tensor operations on
the device, for a batch of face crops at once.

``transformers``' image processors run on the CPU: without torchvision (which merflow
does not install) only their PIL backend exists, one crop at a time, and on a GPU node
it was the bottleneck of CLIP ViT-L/14 (10.9 clips/s against 2,094 crops/s of the model
alone, issue 24). :class:`TensorImagePreprocess` reads what the processor would do from
its own settings (``size``, ``crop_size``, ``resample``, ``rescale_factor``,
``image_mean``/``image_std``) and does it on the device: the uint8 crops go over as they
are (a quarter of float32's bytes), ``torch.nn.functional.interpolate`` with
``antialias=True`` resizes (for bicubic its kernel is PIL's, a = -0.5, and it widens when
shrinking as PIL's does), the result is rounded to whole levels as PIL's uint8 output is,
then the centre crop (zero padding where the image is smaller, as the processor),
rescale and normalisation.

It is not bit-identical to PIL: PIL resamples in fixed point, one direction at a time,
rounding to uint8 between the two; here both passes are in float32. The difference is
measured in ``tests/unit/test_image_preprocess.py`` (at most a few levels out of 255 on
a few pixels, and an effect on a tiny model's embedding far below what bf16 adds) and in
``docs/gpu.md``. Processor settings it does not reproduce (``shortest_edge`` together with
``longest_edge``, padding, other resamplers) give ``None`` from :meth:`from_processor`:
the caller keeps the processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

# PIL's resampling filters (PIL.Image.Resampling values) -> interpolate's modes.
MODES = {2: "bilinear", 3: "bicubic"}


@dataclass(frozen=True)
class TensorImagePreprocess:
    """The settings of one image processor, applied to uint8 (H, W, 3) crops as tensors."""

    resize: tuple[str, int | tuple[int, int]] | None  # ("shortest_edge", s) / ("size", (h, w))
    mode: str
    crop: tuple[int, int] | None
    rescale: float | None
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None

    @classmethod
    def from_processor(cls, processor: Any) -> TensorImagePreprocess | None:
        """The processor's steps, or ``None`` when it does something this class does not."""
        get = lambda key, default=None: getattr(processor, key, default)  # noqa: E731
        for unsupported in ("do_pad", "do_reduce_labels", "do_color_quantize"):
            if get(unsupported):
                return None
        resize = None
        if get("do_resize"):
            size = get("size")
            shortest = getattr(size, "shortest_edge", None)
            height, width = getattr(size, "height", None), getattr(size, "width", None)
            if shortest and not getattr(size, "longest_edge", None):
                resize = ("shortest_edge", int(shortest))
            elif height and width and not shortest:
                resize = ("size", (int(height), int(width)))
            else:
                return None
        resample = get("resample")
        resample = 2 if resample is None else int(resample)
        if resize is not None and resample not in MODES:
            return None
        crop = None
        if get("do_center_crop"):
            crop_size = get("crop_size")
            crop = (int(crop_size.height), int(crop_size.width))
        normalise = bool(get("do_normalize"))
        mean, std = get("image_mean"), get("image_std")
        return cls(
            resize=resize,
            mode=MODES.get(resample, "bilinear"),
            crop=crop,
            rescale=float(get("rescale_factor")) if get("do_rescale") else None,
            mean=tuple(float(v) for v in np.broadcast_to(mean, 3)) if normalise else None,
            std=tuple(float(v) for v in np.broadcast_to(std, 3)) if normalise else None,
        )

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) after resizing, as the processor computes it."""
        if self.resize is None:
            return height, width
        kind, value = self.resize
        if kind == "size":
            return value
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = value, int(value * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)

    def __call__(
        self, crops: Sequence[np.ndarray], device: str | torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """(N, 3, h, w) ``pixel_values`` of ``crops`` (uint8 RGB (H, W, 3)) on ``device``
        in ``dtype``; crops of one shape are processed together."""
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, crop in enumerate(crops):
            if crop.ndim != 3 or crop.shape[2] != 3:
                raise ValueError(f"face crop {i}: expected (H, W, 3) RGB, got {crop.shape}")
            by_shape.setdefault(crop.shape, []).append(i)
        out: torch.Tensor | None = None
        for idx in by_shape.values():
            batch = torch.from_numpy(np.stack([crops[i] for i in idx]))
            if torch.device(device).type == "cuda":
                batch = batch.pin_memory()
            x = self._process(batch.to(device, non_blocking=True))
            if out is None:
                out = torch.empty((len(crops), *x.shape[1:]), dtype=dtype, device=x.device)
            out[torch.as_tensor(idx, device=x.device)] = x.to(dtype)
        if out is None:
            raise ValueError("no face crops to preprocess")
        return out

    def _process(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float32 (N, 3, h, w), the processor's steps in its order."""
        x = batch.permute(0, 3, 1, 2).to(torch.float32)
        height, width = x.shape[2:]
        size = self.output_size(height, width)
        if size != (height, width):
            # PIL's order: the width first, rounded to whole uint8 levels, then the height.
            for step in ((height, size[1]), size):
                if step != tuple(x.shape[2:]):
                    x = F.interpolate(x, size=step, mode=self.mode, antialias=True)
                    x = (x + 0.5).floor().clamp(0.0, 255.0)  # halves up, as PIL
        if self.crop is not None:
            x = _centre_crop(x, *self.crop)
        if self.rescale is not None:
            x = x * self.rescale
        if self.mean is not None:
            mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
            std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
            x = (x - mean) / std
        return x


def _centre_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """transformers' ``center_crop``: offsets rounded down, zero padding when too small."""
    h, w = x.shape[2:]
    if h < height or w < width:
        new_h, new_w = max(h, height), max(w, width)
        top, left = -(-(new_h - h) // 2), -(-(new_w - w) // 2)  # ceil, as transformers
        x = F.pad(x, (left, new_w - w - left, top, new_h - h - top))
        h, w = new_h, new_w
    top, left = (h - height) // 2, (w - width) // 2
    return x[:, :, top : top + height, left : left + width]


__all__ = ["TensorImagePreprocess"]
