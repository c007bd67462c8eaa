"""Parameters of stage inject_noise (config section ``noise``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoiseParams:
    snr_db: tuple[int, int] = (5, 10)
    blur_factors: tuple[int, ...] = (1, 2, 4)
    seed: int = 2024
    sample_rate: int = 16000
    timeout: float = 600.0
    replacement: bool = False  # True: noise files drawn with replacement (the reference)

    def __post_init__(self):
        lo, hi = self.snr_db
        if int(lo) != lo or int(hi) != hi or lo > hi:
            raise ValueError(f"snr_db must be two integers min <= max, got {self.snr_db}")
        if not self.blur_factors:
            raise ValueError("blur_factors must name at least one factor")
        for f in self.blur_factors:
            if f < 1 or (f & (f - 1)):
                raise ValueError(f"blur factors must be powers of two >= 1, got {f}")
