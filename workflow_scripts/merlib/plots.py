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


def legend_outside(ax, **kwargs) -> None:
    """The legend to the right of the axes, where it cannot cover data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def label_bars(ax, bars, fmt: str = "{:.3f}", horizontal: bool = False, **kwargs) -> None:
    """Write each bar's value at its end, so that 0.79 and 0.87 read apart."""
    values = [b.get_width() if horizontal else b.get_height() for b in bars]
    ax.bar_label(
        bars,
        labels=[fmt.format(v) for v in values],
        padding=2,
        fontsize=kwargs.pop("fontsize", 7),
        **kwargs,
    )


def save_figure(fig, path: str | os.PathLike, tight: bool = True) -> None:
    """Save ``fig`` as PNG atomically (temporary file, then rename) and close it. The
    bounding box takes in what lies outside the axes (a legend beside them)."""
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, format="png", bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
