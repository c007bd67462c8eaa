"""The ``faster-whisper`` backend (audio): Whisper-base's encoder, offline, on CPU or GPU.

Whisper's encoder runs on 30 s windows (it pads every window to 30 s itself) and its final
states are averaged over the 20 ms frames that hold audio, padding frames left out, so
batching changes nothing. The model comes from :func:`merlib.whisper.resolve_whisper_model`
(``base``: the wheel-shipped Whisper-base, or a local CTranslate2 folder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .features import SAMPLE_RATE, Encoder, register_backend
from .whisper import default_cache_dir, resolve_whisper_model

SAMPLES_PER_FRAME = 320  # hop 160, then the encoder's stride-2 convolution
WINDOW_SECONDS = 30


class FasterWhisperEncoder(Encoder):
    """Whisper encoder states (CTranslate2), averaged over the frames that hold audio."""

    modality = "audio"

    def __init__(
        self,
        model: str = "base",
        device: str = "cpu",
        compute_type: str = "default",
        batch_size: int = 8,
        threads: int | None = None,
    ):
        from faster_whisper import WhisperModel

        folder = resolve_whisper_model(model, default_cache_dir())
        self._model = WhisperModel(
            folder, device=device, compute_type=compute_type, cpu_threads=threads or 0
        )
        self._extractor = self._model.feature_extractor
        self.batch_size = batch_size
        self.dim = int(self._states([np.zeros(SAMPLE_RATE, np.float32)])[0].shape[-1])

    def _states(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        from faster_whisper.audio import pad_or_trim

        mels = np.stack([pad_or_trim(self._extractor(w)) for w in windows])
        return np.asarray(self._model.encode(mels.astype(np.float32)), dtype=np.float32)

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        window = WINDOW_SECONDS * SAMPLE_RATE
        chunks, owner = [], []
        for i, signal in enumerate(items):
            signal = np.asarray(signal, np.float32)
            for start in range(0, max(len(signal), 1), window):
                chunks.append(signal[start : start + window])
                owner.append(i)
        sums = np.zeros((len(items), self.dim), np.float64)
        counts = np.zeros(len(items), np.float64)
        for start in range(0, len(chunks), self.batch_size):
            part = chunks[start : start + self.batch_size]
            states = self._states(part)
            for row, chunk in enumerate(part):
                n = min(states.shape[1], math.ceil(len(chunk) / SAMPLES_PER_FRAME))
                sums[owner[start + row]] += states[row, :n].sum(0)
                counts[owner[start + row]] += n
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / counts[:, None]).astype(np.float32)


@register_backend(
    "faster-whisper", modalities=("audio",), options=("device", "compute_type", "batch_size")
)
def _faster_whisper_factory(
    model: str, options: dict, *, modality: str, threads: int | None
) -> FasterWhisperEncoder:
    device = options.get("device", "cpu")
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() else "cpu"
    return FasterWhisperEncoder(
        model,
        device=device,
        compute_type=str(options.get("compute_type", "default")),
        batch_size=int(options.get("batch_size", 8)),
        threads=threads,
    )


__all__ = ["FasterWhisperEncoder"]
