"""Noise mixed into clean audio at a given SNR, and the SNR measured back."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import SilentClipError, SilentNoiseError

INT16_MAX = 32767.0


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


@dataclass(frozen=True)
class Mix:
    audio: np.ndarray  # int16
    gain: float  # factor applied to the noise before adding
    rescaled: bool  # the sum left the int16 range and was scaled down
    mix_scale: float  # that scale (1.0 when not rescaled)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float, what: str = "clip") -> Mix:
    """Clean int16 audio plus noise scaled to ``snr_db``; rescaled when it overflows int16."""
    clean = np.asarray(clean)
    if clean.shape != np.asarray(noise).shape:
        raise ValueError(f"{what}: clean {clean.shape} and noise {np.shape(noise)} differ")
    clean_rms = rms(clean)
    if clean_rms == 0.0:
        raise SilentClipError(f"{what}: audio is silent (RMS 0), no SNR can be defined")
    noise_rms = rms(noise)
    if noise_rms == 0.0:
        raise SilentNoiseError(f"{what}: the noise segment drawn is silent (RMS 0)")
    gain = clean_rms / (noise_rms * 10.0 ** (snr_db / 20.0))
    mixed = clean.astype(np.float64) + gain * np.asarray(noise, dtype=np.float64)
    peak = float(np.max(np.abs(mixed)))
    scale = 1.0
    if peak > INT16_MAX:
        scale = INT16_MAX / peak
        mixed *= scale
    out = np.clip(np.rint(mixed), -32768, 32767).astype(np.int16)
    return Mix(out, gain, scale != 1.0, scale)


def measured_snr_db(clean: np.ndarray, noisy: np.ndarray, mix_scale: float = 1.0) -> float:
    """SNR present in ``noisy``: RMS of the (scaled) clean signal over RMS of the rest."""
    c = np.asarray(clean, dtype=np.float64) * mix_scale
    residual = np.asarray(noisy, dtype=np.float64) - c
    r = rms(residual)
    return math.inf if r == 0.0 else 20.0 * math.log10(rms(c) / r)
