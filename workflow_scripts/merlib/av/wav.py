"""WAV files: mono 16-bit PCM read and written (atomically), and in-memory WAV bytes."""

from __future__ import annotations

import io
import os
import wave

import numpy as np

from ..atomic import atomic_path
from ..errors import AudioLoadingError


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] as int16 PCM (rounded, clipped)."""
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")


def _write(target, pcm: np.ndarray, sample_rate: int) -> None:
    with wave.open(target, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())


def write_wav(path: str | os.PathLike, pcm: np.ndarray, sample_rate: int) -> None:
    """Write mono int16 PCM as a wav file, atomically."""
    with atomic_path(path) as tmp:
        _write(str(tmp), pcm, sample_rate)


def wav_bytes(pcm: np.ndarray, sample_rate: int) -> bytes:
    """Mono int16 PCM as the bytes of a wav file."""
    buf = io.BytesIO()
    _write(buf, pcm, sample_rate)
    return buf.getvalue()


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(int16 samples, sample rate) of a mono 16-bit wav file."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise AudioLoadingError(f"{path}: expected mono 16-bit PCM wav")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()
