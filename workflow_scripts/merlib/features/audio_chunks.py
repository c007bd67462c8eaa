"""Audio cut into chunks, pooled per clip over the frames of all its chunks.

Shared by the ``transformers`` speech and Whisper encoders (:mod:`merlib.features.hf_audio`)
and the ``faster-whisper`` backend (:mod:`merlib.features.faster_whisper_encoder`):
:func:`chunk_signal` cuts a waveform (:func:`padded_chunks` as MERTools does: zero-padded to
a whole number of chunks), :class:`ChunkPool` averages frame vectors per clip, and
:func:`whisper_audio_frames` counts the encoder frames of a 30 s Whisper window
(:data:`WHISPER_WINDOW_SECONDS`) that hold audio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

# Whisper: samples per encoder frame (hop 160, then a stride-2 conv) and window length.
WHISPER_SAMPLES_PER_FRAME = 320
WHISPER_WINDOW_SECONDS = 30


def chunk_signal(signal: np.ndarray, chunk_samples: int) -> list[np.ndarray]:
    """Consecutive chunks of at most ``chunk_samples`` samples (the last one shorter)."""
    return [signal[i : i + chunk_samples] for i in range(0, max(len(signal), 1), chunk_samples)]


def padded_chunks(signal: np.ndarray, chunk_samples: int) -> list[np.ndarray]:
    """MERTools' ``split_into_batch``: a signal of at most ``chunk_samples`` samples is one
    chunk as it is; a longer one is zero-padded to the next multiple of ``chunk_samples``
    and cut into chunks of exactly that length (the last one ends in zeros)."""
    if len(signal) <= chunk_samples:
        return [signal]
    n = math.ceil(len(signal) / chunk_samples)
    padded = np.zeros(n * chunk_samples, signal.dtype)
    padded[: len(signal)] = signal
    return list(padded.reshape(n, chunk_samples))


class ChunkPool:
    """Clips cut into chunks, and per clip the mean over the frames of all its chunks.

    ``cut`` makes a clip's chunks (:func:`chunk_signal` or :func:`padded_chunks`);
    ``add`` takes a chunk's sum of frame vectors and its number of frames; ``means`` is
    ``(clips, dim)``: a clip with no frame at all (too short for the model) gets NaN,
    which :func:`merlib.features.extraction.extract_shard` rejects with the clip's duration.
    """

    def __init__(
        self,
        items: Sequence[np.ndarray],
        chunk_samples: int,
        dim: int,
        cut: Callable[[np.ndarray, int], list[np.ndarray]] = chunk_signal,
    ):
        self.chunks: list[np.ndarray] = []
        self.owner: list[int] = []
        for i, signal in enumerate(items):
            for chunk in cut(np.asarray(signal, np.float32), chunk_samples):
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


__all__ = [
    "WHISPER_SAMPLES_PER_FRAME",
    "WHISPER_WINDOW_SECONDS",
    "ChunkPool",
    "chunk_signal",
    "padded_chunks",
    "whisper_audio_frames",
]
