"""What ``protocol: reference`` means inside a ``transformers`` encoder (docs/reference.md).

The encoder-side rows of the reference comparison depend on the model's type, known only
once its config is read, so they are resolved here, per feature, rather than in
:func:`merlib.protocol.resolve` (which only passes ``protocol`` to each transformers
feature's options). An option the feature gives explicitly always wins:

- ``pooling`` (image encoders): ``pooler`` (merflow: ``pooler_output``, CLIP's projected
  image features) or ``token_sum`` (the last encoder layer's states, before the final
  layernorm, summed over all tokens). Reference: ``token_sum`` for DINOv2.
- ``image_frames`` (image encoders): ``0`` (merflow: every face crop of the clip) or the
  number of crops resampled uniformly over the clip (repeats when it has fewer), whose
  embeddings are averaged. Reference: 64 for DINOv2.
- ``dtype``: ``auto`` (merflow: bf16/fp16 on a GPU, fp32 on the CPU). Reference: fp32,
  and fp16 for causal LMs on a GPU (MERTools halves its LLMs on a GPU only).
- ``speech_chunking`` (speech models: HuBERT, wav2vec 2.0, WavLM, data2vec, any audio
  model but Whisper): ``masked`` (merflow) or ``padded``; reference: ``padded``.
- ``whisper_states`` (Whisper): ``encoder`` (merflow) or ``decoder``; reference:
  ``decoder``. What the two audio options compute: :mod:`merlib.features.hf_audio`.
"""

from __future__ import annotations

from typing import Any

POOLINGS = ("pooler", "token_sum")
# Audio pooling (merlib.features.hf_audio): merflow's value first, MERTools' second.
SPEECH_CHUNKING = ("masked", "padded")
WHISPER_STATES = ("encoder", "decoder")
# The audio model type read through WhisperEncoder; every other audio type is a speech
# model (merlib.features.hf_backend).
WHISPER_MODEL_TYPE = "whisper"
REFERENCE_IMAGE_FRAMES = 64
# Model types whose MERTools pooling differs from merflow's (the reference's DINOv2 row).
TOKEN_SUM_MODEL_TYPES = frozenset({"dinov2", "dinov2_with_registers"})
# Architecture names of decoder-only LMs in a checkpoint's config.json.
CAUSAL_LM_SUFFIXES = ("ForCausalLM", "LMHeadModel")


def is_reference(opts: Any) -> bool:
    return getattr(opts, "protocol", "merflow") == "reference"


def is_causal_lm(config: Any) -> bool:
    """True for a decoder-only LM: an architecture ``*ForCausalLM`` / ``*LMHeadModel`` in
    the config (Baichuan, Qwen, Llama, GPT-2), or remote code mapping
    ``AutoModelForCausalLM`` (ChatGLM2, whose architecture is ``ChatGLMModel``)."""
    architectures = getattr(config, "architectures", None) or ()
    if any(str(a).endswith(CAUSAL_LM_SUFFIXES) for a in architectures):
        return True
    return "AutoModelForCausalLM" in (getattr(config, "auto_map", None) or {})


def dtype_name(opts: Any, config: Any, device: str) -> str:
    """The ``dtype`` option an encoder runs with: the feature's own when given; under
    ``protocol: reference`` float32, float16 for a causal LM on a GPU; else ``auto``."""
    if "dtype" in opts.given or not is_reference(opts):
        return opts.dtype
    return "float16" if device == "cuda" and is_causal_lm(config) else "float32"


def image_pooling(opts: Any, model_type: str) -> str:
    """``pooling`` of an image encoder: the feature's own, else ``token_sum`` for DINOv2
    under ``protocol: reference``, else ``pooler``."""
    if "pooling" in opts.given:
        return opts.pooling
    return "token_sum" if is_reference(opts) and model_type in TOKEN_SUM_MODEL_TYPES else "pooler"


def image_frames(opts: Any, model_type: str) -> int:
    """Face crops per clip of an image encoder (0: all): the feature's own, else 64 for
    DINOv2 under ``protocol: reference``, else 0."""
    if "image_frames" in opts.given:
        return opts.image_frames
    if is_reference(opts) and model_type in TOKEN_SUM_MODEL_TYPES:
        return REFERENCE_IMAGE_FRAMES
    return 0


def speech_chunking(opts: Any, model_type: str) -> str:
    """``speech_chunking`` of an audio encoder: the feature's own, else ``padded`` for a
    speech model (not Whisper) under ``protocol: reference``, else ``masked``."""
    if "speech_chunking" in opts.given:
        return opts.speech_chunking
    speech = model_type != WHISPER_MODEL_TYPE
    return SPEECH_CHUNKING[1] if is_reference(opts) and speech else SPEECH_CHUNKING[0]


def whisper_states(opts: Any, model_type: str) -> str:
    """``whisper_states`` of an audio encoder: the feature's own, else ``decoder`` for
    Whisper under ``protocol: reference``, else ``encoder``."""
    if "whisper_states" in opts.given:
        return opts.whisper_states
    whisper = model_type == WHISPER_MODEL_TYPE
    return WHISPER_STATES[1] if is_reference(opts) and whisper else WHISPER_STATES[0]


__all__ = [
    "CAUSAL_LM_SUFFIXES",
    "POOLINGS",
    "REFERENCE_IMAGE_FRAMES",
    "SPEECH_CHUNKING",
    "TOKEN_SUM_MODEL_TYPES",
    "WHISPER_MODEL_TYPE",
    "WHISPER_STATES",
    "dtype_name",
    "image_frames",
    "image_pooling",
    "is_causal_lm",
    "is_reference",
    "speech_chunking",
    "whisper_states",
]
