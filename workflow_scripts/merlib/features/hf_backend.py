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

``transformers`` is imported when an encoder is built, not when merlib is. The
encoders are in :mod:`merlib.features.hf_audio`, :mod:`merlib.features.hf_text` and
:mod:`merlib.features.hf_visual`, on the shared options and loader of
:mod:`merlib.features.hf_common`; this module registers the backend and picks the
encoder class.
"""

from __future__ import annotations

import logging

from .base import register_backend
from .hf_audio import SpeechEncoder, WhisperEncoder
from .hf_common import OPTIONS, TransformersEncoder, TransformersOptions
from .hf_reference import WHISPER_MODEL_TYPE
from .hf_text import TextEncoder
from .hf_visual import ImageEncoder, VideoEncoder

log = logging.getLogger(__name__)


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
        cls = WhisperEncoder if model_type == WHISPER_MODEL_TYPE else SpeechEncoder
    elif modality == "text":
        cls = TextEncoder
    else:
        cls = VideoEncoder if model_type == "videomae" else ImageEncoder
    log.info("transformers: %s (%s) as %s", model, model_type, cls.__name__)
    return cls(model, opts, threads)
