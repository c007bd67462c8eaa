"""What every ``transformers`` encoder shares: options, device, dtype, pooling, loading.

:class:`TransformersOptions` validates a feature's options (:data:`OPTIONS`);
:func:`resolve_device` / :func:`resolve_dtype` turn ``auto`` into a device and a torch
dtype; :func:`sum_last_layers`, :func:`masked_mean` and :func:`length_mask` pool hidden
states; :class:`TransformersEncoder` loads config, weights and image processor with the
safety settings described in :mod:`merlib.features.hf_backend`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..protocol import PROTOCOLS
from .base import Encoder
from .hf_reference import POOLINGS, SPEECH_CHUNKING, WHISPER_STATES, dtype_name

OPTIONS = (
    "layers",
    "chunk_seconds",
    "batch_size",
    "device",
    "dtype",
    "max_tokens",
    "frames",
    "trust_remote_code",
    "speech_chunking",
    "whisper_states",
    "pooling",
    "image_frames",
    "protocol",
)
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")


class TransformersOptions:
    """Validated options of a ``transformers`` feature (see :data:`OPTIONS`)."""

    def __init__(self, options: Mapping[str, Any]):
        unknown = set(options) - set(OPTIONS)
        if unknown:
            raise ValueError(f"transformers: unknown options {sorted(unknown)}")
        self.layers = _positive_int(options, "layers", 4)
        self.chunk_seconds = float(options.get("chunk_seconds", 10.0))
        if not self.chunk_seconds > 0:
            raise ValueError(f"transformers: chunk_seconds must be > 0, got {self.chunk_seconds}")
        self.batch_size = _positive_int(options, "batch_size", 8)
        self.max_tokens = _positive_int(options, "max_tokens", 512)
        self.frames = _positive_int(options, "frames", 16)
        self.device = str(options.get("device", "auto"))
        if self.device not in DEVICES:
            raise ValueError(f"transformers: device must be one of {DEVICES}, got {self.device!r}")
        self.dtype = str(options.get("dtype", "auto"))
        if self.dtype not in DTYPES:
            raise ValueError(f"transformers: dtype must be one of {DTYPES}, got {self.dtype!r}")
        trust = options.get("trust_remote_code", False)
        if not isinstance(trust, bool):
            raise ValueError("transformers: trust_remote_code must be true or false")
        self.trust_remote_code = trust
        self.speech_chunking = _choice(options, "speech_chunking", SPEECH_CHUNKING)
        self.whisper_states = _choice(options, "whisper_states", WHISPER_STATES)
        # Options left out follow ``protocol`` (set by merlib.protocol.resolve), see
        # merlib.features.hf_reference: which were given explicitly matters.
        self.given = frozenset(options)
        self.protocol = _choice(options, "protocol", PROTOCOLS)
        self.pooling = _choice(options, "pooling", POOLINGS)
        self.image_frames = options.get("image_frames", 0)
        frames = self.image_frames
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 0:
            raise ValueError(f"transformers: image_frames must be an integer >= 0, got {frames!r}")


def _positive_int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"transformers: {key} must be an integer >= 1, got {value!r}")
    return value


def _choice(options: Mapping[str, Any], key: str, choices: Sequence[str]) -> str:
    """``options[key]``, one of ``choices`` (the first when absent)."""
    value = options.get(key, choices[0])
    if value not in choices:
        raise ValueError(f"transformers: {key} must be one of {tuple(choices)}, got {value!r}")
    return value


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` without one raises."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("transformers: device 'cuda' requested but no CUDA GPU is visible")
    return device


def resolve_dtype(dtype: str, device: str):
    """``auto``: fp16 on a GPU (bf16 where the GPU has it), fp32 on CPU."""
    import torch

    if dtype == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, dtype)


def sum_last_layers(hidden_states: Sequence[Any], layers: int):
    """Sum of the last ``layers`` entries of ``output_hidden_states`` (each ``(B, T, D)``)."""
    if layers > len(hidden_states) - 1:
        raise ValueError(
            f"transformers: layers={layers} but the model has {len(hidden_states) - 1} layers"
        )
    total = hidden_states[-layers].float()
    for h in hidden_states[-layers + 1 :] if layers > 1 else ():
        total = total + h.float()
    return total


def masked_mean(states, mask):
    """Mean over time of ``(B, T, D)`` states where ``mask`` ``(B, T)`` is true."""
    weights = mask.to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def length_mask(lengths, steps: int):
    """``(B, steps)`` boolean mask, true for the first ``lengths[b]`` steps of row b."""
    import torch

    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


class TransformersEncoder(Encoder):
    """Shared loading (device, dtype, safety) of every ``transformers`` encoder."""

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None):
        import torch
        from transformers import AutoConfig

        if threads:
            torch.set_num_threads(int(threads))
        self.model_id = model
        self.opts = opts
        self.device = resolve_device(opts.device)
        self.config = AutoConfig.from_pretrained(model, trust_remote_code=opts.trust_remote_code)
        # protocol: reference runs encoders in fp32 and causal LMs in fp16 (hf_reference)
        self.torch_dtype = resolve_dtype(dtype_name(opts, self.config, self.device), self.device)

    def _image_processor(self):
        from transformers import AutoImageProcessor

        # The PIL backend: torchvision (the fast processors' backend) is not installable.
        return AutoImageProcessor.from_pretrained(
            self.model_id, backend="pil", trust_remote_code=self.opts.trust_remote_code
        )

    def _load(self, loader, **kwargs):
        """``loader.from_pretrained`` of the model, in eval mode, on the device.

        The weights go from the checkpoint straight to the device in the target dtype:
        ``dtype`` makes transformers cast each tensor as it is read (no fp32 copy of a
        bf16/fp16 checkpoint), and ``device_map`` (which needs ``accelerate``) places each
        tensor on the GPU as it is loaded instead of building the whole model in host
        memory first and then copying it (``.to(device)``), so no full copy of the
        weights is ever resident in host memory.
        """
        model = loader.from_pretrained(
            self.model_id,
            trust_remote_code=self.opts.trust_remote_code,
            dtype=self.torch_dtype,
            device_map=self.device,
            **kwargs,
        )
        return model.eval()

    def _batches(self, n: int, size: int | None = None):
        size = size or self.opts.batch_size
        return [range(i, min(i + size, n)) for i in range(0, n, size)]


__all__ = [
    "DEVICES",
    "DTYPES",
    "OPTIONS",
    "TransformersEncoder",
    "TransformersOptions",
    "length_mask",
    "masked_mean",
    "resolve_device",
    "resolve_dtype",
    "sum_last_layers",
]
