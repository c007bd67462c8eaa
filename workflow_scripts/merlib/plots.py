"""Matplotlib figures for the report: headless (Agg) and written atomically."""

from __future__ import annotations

import os
from pathlib import Path


def subplots(figsize: tuple[float, float] = (6, 5), **kwargs):
    """``plt.subplots`` on the Agg backend (no display needed), 100 dpi."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, dpi=100, **kwargs)


def save_figure(fig, path: str | os.PathLike) -> None:
    """Save ``fig`` as PNG atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
