"""The noise corpus: MUSAN speech files found, decoded and cached."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..av.decode import decode_audio
from ..errors import AudioLoadingError
from .errors import NoiseCorpusError, NoiseFileError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".sph", ".aac"})


def find_noise_files(musan_dir: str | os.PathLike) -> list[Path]:
    """Audio files under ``musan_dir`` (recursively), sorted by relative path."""
    root = Path(musan_dir)
    if not root.is_dir():
        raise NoiseCorpusError(
            f"noise.musan_dir {str(root)!r} is not a folder. Please point it at the speech "
            "subset of MUSAN (musan/speech)."
        )
    files = sorted(
        (p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise NoiseCorpusError(
            f"noise.musan_dir {str(root)!r} holds no audio file "
            f"({', '.join(sorted(AUDIO_SUFFIXES))}), searched recursively."
        )
    return files


def load_noise(
    path: str | os.PathLike, sample_rate: int = 16000, timeout: float = 600
) -> np.ndarray:
    """A noise file as mono int16 at ``sample_rate``; :class:`NoiseFileError` if it fails."""
    try:
        return decode_audio(path, sample_rate, timeout)
    except (AudioLoadingError, subprocess.TimeoutExpired) as exc:
        raise NoiseFileError(f"noise file {path} does not decode: {exc}") from exc


@dataclass
class NoiseCorpus:
    """The noise files and a bounded cache of their decoded audio."""

    root: Path
    files: list[Path]
    sample_rate: int = 16000
    timeout: float = 600.0
    cache_size: int = 16  # decoded files kept (MUSAN speech files: minutes, ~10 MB each)
    _load: Callable[[int], np.ndarray] = field(init=False, repr=False)

    def __post_init__(self):
        @functools.lru_cache(maxsize=self.cache_size)
        def load(index: int) -> np.ndarray:
            return load_noise(self.files[index], self.sample_rate, self.timeout)

        self._load = load

    @classmethod
    def open(cls, musan_dir: str | os.PathLike, **kwargs) -> NoiseCorpus:
        return cls(Path(musan_dir), find_noise_files(musan_dir), **kwargs)

    def load(self, index: int) -> np.ndarray:
        return self._load(index)

    def relative(self, index: int) -> str:
        return self.files[index].relative_to(self.root).as_posix()
