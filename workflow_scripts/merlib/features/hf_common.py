"""The ``transformers`` backend: Hugging Face encoders, pooled as the MER2024 toolkit does.

A feature with ``backend: transformers`` names a model by Hugging Face id or local path;
what it computes follows from its modality and the model's ``config.model_type``:

- ``audio``, speech encoders (HuBERT, wav2vec 2.0, WavLM, data2vec-audio, ...): 16 kHz
  mono cut into ``chunk_seconds`` (10 s) chunks, each normalised by the model's own
  feature extractor; the hidden states of the last ``layers`` (4) layers summed, then
  averaged over the frames of all chunks (the reference toolkit's utterance-level recipe).
- ``audio``, Whisper (``model_type: whisper``): 30 s log-mel windows through the
  *encoder* only; the same layer sum, averaged over the encoder frames that hold audio
  (20 ms each; Whisper pads every window to 30 s). The reference used decoder states.
- ``text``, encoders (Chinese BERT/RoBERTa family) and causal LMs (Baichuan, ChatGLM,
  Qwen, ...): the last ``layers`` hidden layers summed, averaged over the tokens of the
  text without special tokens and padding. A blank transcription gives a zero vector.
- ``visual`` on face crops: CLIP (``get_image_features``), DINOv2 and other image
  encoders (``pooler_output``, else the mean of the last hidden state) per crop, then
  averaged over the clip; VideoMAE on ``frames`` (16) crops sampled uniformly over the
  clip, its last hidden state averaged over tokens.

Batching never changes a clip's embedding: batches are padded and masked (models that
cannot mask padding, e.g. wav2vec 2.0 *base* with group norm, only batch inputs of equal
length), so a clip's vector is the same whatever its batch neighbours (tested).

Safety: ``trust_remote_code`` is off unless the feature's options say ``true``; weights
load from safetensors when the model has them, otherwise ``transformers`` reads
``pytorch_model.bin`` with ``torch.load(weights_only=True)`` (no arbitrary pickle).

``transformers`` is imported when an encoder is built, not when merlib is.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import SAMPLE_RATE, Encoder, is_empty_text, register_backend

log = logging.getLogger(__name__)

OPTIONS = (
    "layers",
    "chunk_seconds",
    "batch_size",
    "device",
    "dtype",
    "max_tokens",
    "frames",
    "trust_remote_code",
)
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")
# Whisper: samples per encoder frame (hop 160, then a stride-2 conv) and window length.
WHISPER_SAMPLES_PER_FRAME = 320
WHISPER_WINDOW_SECONDS = 30


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


def _positive_int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"transformers: {key} must be an integer >= 1, got {value!r}")
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


def chunk_signal(signal: np.ndarray, chunk_samples: int) -> list[np.ndarray]:
    """Consecutive chunks of at most ``chunk_samples`` samples (the last one shorter)."""
    return [signal[i : i + chunk_samples] for i in range(0, max(len(signal), 1), chunk_samples)]


class ChunkPool:
    """Clips cut into chunks, and per clip the mean over the frames of all its chunks.

    ``add`` takes a chunk's sum of frame vectors and its number of frames; ``means`` is
    ``(clips, dim)``: a clip with no frame at all (too short for the model) gets NaN,
    which :func:`merlib.features.extract_shard` rejects with the clip's duration.
    """

    def __init__(self, items: Sequence[np.ndarray], chunk_samples: int, dim: int):
        self.chunks: list[np.ndarray] = []
        self.owner: list[int] = []
        for i, signal in enumerate(items):
            for chunk in chunk_signal(np.asarray(signal, np.float32), chunk_samples):
                self.chunks.append(chunk)
                self.owner.append(i)
        self._sums = np.zeros((len(items), dim), np.float64)
        self._counts = np.zeros(len(items), np.float64)

    def add(self, chunk: int, frame_sum: np.ndarray, n_frames: float) -> None:
        self._sums[self.owner[chunk]] += frame_sum
        self._counts[self.owner[chunk]] += n_frames

    def means(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self._sums / self._counts[:, None]).astype(np.float32)


def whisper_audio_frames(chunk: np.ndarray, max_frames: int) -> int:
    """Encoder frames (20 ms) of a Whisper window that hold audio, not padding."""
    return min(max_frames, math.ceil(len(chunk) / WHISPER_SAMPLES_PER_FRAME))


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
        self.torch_dtype = resolve_dtype(opts.dtype, self.device)
        self.config = AutoConfig.from_pretrained(model, trust_remote_code=opts.trust_remote_code)

    def _image_processor(self):
        from transformers import AutoImageProcessor

        # The PIL backend: torchvision (the fast processors' backend) is not installable.
        return AutoImageProcessor.from_pretrained(
            self.model_id, backend="pil", trust_remote_code=self.opts.trust_remote_code
        )

    def _load(self, loader, **kwargs):
        model = loader.from_pretrained(
            self.model_id,
            trust_remote_code=self.opts.trust_remote_code,
            dtype=self.torch_dtype,
            **kwargs,
        )
        return model.to(self.device).eval()

    def _batches(self, n: int, size: int | None = None):
        size = size or self.opts.batch_size
        return [range(i, min(i + size, n)) for i in range(0, n, size)]


# --------------------------------------------------------------------------------- audio


class SpeechEncoder(TransformersEncoder):
    """HuBERT / wav2vec 2.0 / WavLM / data2vec: chunked, last layers summed, time-averaged."""

    modality = "audio"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoFeatureExtractor, AutoModel, Wav2Vec2FeatureExtractor

        # Group-norm feature encoders (wav2vec 2.0 / HuBERT base) cannot mask padding.
        self.can_mask = getattr(self.config, "feat_extract_norm", "layer") == "layer"
        try:
            self.extractor = AutoFeatureExtractor.from_pretrained(
                model, trust_remote_code=opts.trust_remote_code
            )
        except OSError:  # no preprocessor_config.json: the checkpoint's usual defaults
            self.extractor = Wav2Vec2FeatureExtractor(
                sampling_rate=SAMPLE_RATE, do_normalize=self.can_mask
            )
        self.model = self._load(AutoModel)
        self.dim = int(self.config.hidden_size)
        self.chunk_samples = int(round(opts.chunk_seconds * SAMPLE_RATE))

    def _forward(self, chunks: list[np.ndarray]):
        import torch

        inputs = self.extractor(
            chunks,
            sampling_rate=SAMPLE_RATE,
            padding=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        values = inputs["input_values"].to(self.device, self.torch_dtype)
        sample_mask = inputs["attention_mask"].to(self.device)
        kwargs = {"attention_mask": sample_mask} if self.can_mask else {}
        with torch.inference_mode():
            out = self.model(values, output_hidden_states=True, **kwargs)
        states = sum_last_layers(out.hidden_states, self.opts.layers)
        lengths = self.model._get_feat_extract_output_lengths(sample_mask.sum(-1))
        return states, length_mask(lengths, states.shape[1])

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        pool = ChunkPool(items, self.chunk_samples, self.dim)
        chunks = pool.chunks
        # A chunk shorter than one frame's receptive field (the tail of a clip just over
        # 10 s, a clip of a few ms) has no frame: it is left out (the convolutions would
        # fail on it), and a clip made only of such chunks gets NaN, hence a reject.
        frames = self.model._get_feat_extract_output_lengths(
            torch.tensor([len(c) for c in chunks])
        ).tolist()
        usable = [j for j in range(len(chunks)) if frames[j] > 0]
        # Longest first so padding stays small; without masking only equal lengths batch.
        order = sorted(usable, key=lambda j: -len(chunks[j]))
        groups: list[list[int]] = []
        for j in order:
            last = groups[-1] if groups else None
            fits = last is not None and len(last) < self.opts.batch_size
            if fits and (self.can_mask or len(chunks[last[0]]) == len(chunks[j])):
                last.append(j)
            else:
                groups.append([j])
        for group in groups:
            states, frames = self._forward([chunks[j] for j in group])
            summed = (states * frames.unsqueeze(-1)).sum(1).double().cpu().numpy()
            n = frames.sum(1).double().cpu().numpy()
            for row, j in enumerate(group):
                pool.add(j, summed[row], n[row])
        return pool.means()


class WhisperEncoder(TransformersEncoder):
    """Whisper's encoder: 30 s windows, last layers summed, averaged over frames of audio."""

    modality = "audio"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, WhisperFeatureExtractor

        try:
            self.extractor = WhisperFeatureExtractor.from_pretrained(model)
        except OSError:
            self.extractor = WhisperFeatureExtractor(feature_size=self.config.num_mel_bins)
        self.encoder = self._load(AutoModel).get_encoder()
        self.dim = int(self.config.d_model)
        self.window = WHISPER_WINDOW_SECONDS * SAMPLE_RATE

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        pool = ChunkPool(items, self.window, self.dim)
        for batch in self._batches(len(pool.chunks)):
            part = [pool.chunks[j] for j in batch]
            # Every window is padded to 30 s by Whisper itself: batching changes nothing.
            feats = self.extractor(part, sampling_rate=SAMPLE_RATE, return_tensors="pt")
            x = feats["input_features"].to(self.device, self.torch_dtype)
            with torch.inference_mode():
                out = self.encoder(x, output_hidden_states=True)
            states = sum_last_layers(out.hidden_states, self.opts.layers)
            n_frames = [whisper_audio_frames(c, states.shape[1]) for c in part]
            frames = length_mask(torch.tensor(n_frames, device=states.device), states.shape[1])
            summed = (states * frames.unsqueeze(-1)).sum(1).double().cpu().numpy()
            for row, j in enumerate(batch):
                pool.add(j, summed[row], n_frames[row])
        return pool.means()


# ---------------------------------------------------------------------------------- text


class TextEncoder(TransformersEncoder):
    """BERT-family encoders and causal LMs: last layers summed, mean over the text's tokens."""

    modality = "text"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(
            model, trust_remote_code=opts.trust_remote_code
        )
        # Right padding: with a causal mask, a token never sees the padding after it.
        self.tokenizer.padding_side = "right"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model = self._load(AutoModel)
        self.dim = int(self.config.hidden_size)
        self.seq_first = getattr(self.config, "model_type", "") == "chatglm"

    def _encode(self, items: Sequence[str | None]) -> np.ndarray:
        import torch

        out = np.zeros((len(items), self.dim), np.float32)
        keep = [i for i, t in enumerate(items) if not is_empty_text(t)]
        for batch in self._batches(len(keep)):
            texts = [str(items[keep[k]]).strip() for k in batch]
            enc = self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.opts.max_tokens,
                return_special_tokens_mask=True,
                return_tensors="pt",
            )
            special = enc.pop("special_tokens_mask").bool()
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                hidden = self.model(**enc, output_hidden_states=True).hidden_states
            if self.seq_first:  # ChatGLM's own code returns (tokens, batch, dim)
                hidden = [h.transpose(0, 1) for h in hidden]
            states = sum_last_layers(hidden, self.opts.layers)
            mask = enc["attention_mask"].bool() & ~special.to(self.device)
            pooled = masked_mean(states, mask).cpu().numpy()
            # A text of special tokens only has no token to average: NaN, rejected.
            pooled[~mask.any(1).cpu().numpy()] = np.nan
            out[[keep[k] for k in batch]] = pooled
        return out


# -------------------------------------------------------------------------------- visual


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


# ------------------------------------------------------------------------------ registry


@register_backend("transformers", modalities=("audio", "visual", "text"), options=OPTIONS)
def _transformers_factory(
    model: str, options: dict, *, modality: str, threads: int | None
) -> TransformersEncoder:
    from transformers import AutoConfig

    opts = TransformersOptions(options)
    model_type = AutoConfig.from_pretrained(
        model, trust_remote_code=opts.trust_remote_code
    ).model_type
    if modality == "audio":
        cls = WhisperEncoder if model_type == "whisper" else SpeechEncoder
    elif modality == "text":
        cls = TextEncoder
    else:
        cls = VideoEncoder if model_type == "videomae" else ImageEncoder
    log.info("transformers: %s (%s) as %s", model, model_type, cls.__name__)
    return cls(model, opts, threads)


__all__ = [
    "ChunkPool",
    "ImageEncoder",
    "SpeechEncoder",
    "TextEncoder",
    "TransformersOptions",
    "VideoEncoder",
    "WhisperEncoder",
    "chunk_signal",
    "length_mask",
    "masked_mean",
    "resolve_device",
    "resolve_dtype",
    "sum_last_layers",
    "uniform_indices",
    "whisper_audio_frames",
]
