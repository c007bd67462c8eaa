"""A clip's seeded draws: its SNR, its blur factor and the noise files and crop it gets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import NoiseFileError
from .params import NoiseParams


def clip_seed(seed: int, name: str) -> int:
    """The seed of a clip's draws: a stable hash of the config seed and the clip name."""
    digest = hashlib.sha256(f"{int(seed)}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # fits a signed int64 column


@dataclass(frozen=True)
class Draw:
    seed: int
    snr_db: int
    blur_factor: int


def draw_clip(name: str, params: NoiseParams) -> tuple[Draw, np.random.Generator]:
    """A clip's SNR and blur factor, and the generator its noise draws continue from."""
    seed = clip_seed(params.seed, name)
    rng = np.random.default_rng(seed)
    lo, hi = params.snr_db
    snr = int(rng.integers(int(lo), int(hi) + 1))
    blur = int(params.blur_factors[int(rng.integers(len(params.blur_factors)))])
    return Draw(seed, snr, blur), rng


def _file_order(rng: np.random.Generator, n_files: int, replacement: bool) -> np.ndarray:
    """One pass of file indices: a permutation, or (``replacement``, MERTools' independent
    ``random.choice`` per file) ``n_files`` independent uniform draws."""
    if replacement:
        return rng.integers(0, n_files, size=n_files)
    return rng.permutation(n_files)


def noise_segment(
    rng: np.random.Generator,
    n_files: int,
    n_samples: int,
    load: Callable[[int], np.ndarray],
    replacement: bool = False,
) -> tuple[np.ndarray, list[int], int]:
    """Noise of ``n_samples`` samples: files (by index) concatenated in random order until
    longer than ``n_samples``, then a random crop. Returns (noise, file indices, offset).
    When one pass over all files is not enough, another random order follows. With
    ``replacement`` (the reference's draw) each file is drawn independently, so a file may
    come twice in a row and another not at all."""
    parts: list[np.ndarray] = []
    used: list[int] = []
    total = 0
    while total <= n_samples:
        for index in _file_order(rng, n_files, replacement):
            audio = load(int(index))
            parts.append(audio)
            used.append(int(index))
            total += audio.size
            if total > n_samples:
                break
        else:
            if total == 0:
                raise NoiseFileError("every noise file is empty")
    noise = np.concatenate(parts)
    offset = int(rng.integers(0, noise.size - n_samples + 1))
    return noise[offset : offset + n_samples], used, offset
