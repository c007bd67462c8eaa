"""The ``faster-whisper`` backend (audio): Whisper-base's encoder, offline, on CPU or GPU.

Whisper's encoder runs on 30 s windows (it pads every window to 30 s itself) and its final
states are averaged over the 20 ms frames that hold audio, padding frames left out, so
batching changes nothing. The model comes from :func:`merlib.whisper.resolve_whisper_model`
(``base``: the wheel-shipped Whisper-base, or a local CTranslate2 folder).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..whisper import default_cache_dir, resolve_whisper_model
from .audio_chunks import WHISPER_WINDOW_SECONDS, ChunkPool, whisper_audio_frames
from .base import SAMPLE_RATE, Encoder, register_backend


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
        pool = ChunkPool(items, WHISPER_WINDOW_SECONDS * SAMPLE_RATE, self.dim)
        for start in range(0, len(pool.chunks), self.batch_size):
            part = pool.chunks[start : start + self.batch_size]
            states = self._states(part)
            for row, chunk in enumerate(part):
                n = whisper_audio_frames(chunk, states.shape[1])
                pool.add(start + row, states[row, :n].sum(0), n)
        return pool.means()


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
