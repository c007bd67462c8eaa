"""Thread limits of the native libraries a job uses (OpenMP, OpenCV, torch)."""

from __future__ import annotations

import os

import cv2


def limit_threads(n: int) -> None:
    """Use ``n`` threads in OpenMP (yuface), OpenCV and torch. yuface's OpenMP otherwise
    starts one thread per core and, on a loaded machine, is 5-10x slower than with one.
    Call before the first detection."""
    os.environ["OMP_NUM_THREADS"] = str(max(1, n))
    cv2.setNumThreads(max(1, n))
    try:
        import torch

        torch.set_num_threads(max(1, n))
    except ImportError:  # pragma: no cover - torch is a pinned requirement
        pass
