"""The timeline as a picture (rule ``render_apply_timeline``): one lane per speaker,
each turn a bar coloured by its label, its opacity the label's probability; turns
without a prediction hatched grey."""

from __future__ import annotations

import os

import pyarrow as pa

from ..atomic import atomic_path
from ..labels import LABELS

COLOURS = {
    "neutral": "#9e9e9e",
    "angry": "#d62728",
    "happy": "#ffbf00",
    "sad": "#1f77b4",
    "worried": "#9467bd",
    "surprise": "#2ca02c",
}


def plot_timeline(timeline: pa.Table, path: str | os.PathLike, title: str = "") -> None:
    """Write the picture to ``path`` (PNG), atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = timeline.to_pylist()
    speakers = sorted({r["speaker"] or "?" for r in rows})
    lane = {s: i for i, s in enumerate(speakers)}
    end = max([r["end"] for r in rows] + [1.0])
    fig, ax = plt.subplots(
        figsize=(max(6.0, min(24.0, end / 10)), 1.0 + 0.6 * max(1, len(speakers)))
    )
    for r in rows:
        y = lane[r["speaker"] or "?"]
        width = max(r["end"] - r["start"], end / 500)
        if r["label"] is None:
            ax.barh(
                y,
                width,
                left=r["start"],
                height=0.6,
                color="white",
                edgecolor="grey",
                hatch="//",
                linewidth=0.5,
            )
        else:
            alpha = 0.25 + 0.75 * float(r["confidence"])
            ax.barh(
                y,
                width,
                left=r["start"],
                height=0.6,
                color=COLOURS[r["label"]],
                alpha=min(1.0, alpha),
                edgecolor="black",
                linewidth=0.3,
            )
    ax.set_yticks(range(len(speakers)), speakers)
    ax.set_xlim(0, end)
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    handles = [Patch(color=COLOURS[lab], label=lab) for lab in LABELS]
    handles.append(Patch(facecolor="white", edgecolor="grey", hatch="//", label="no prediction"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.35),
        ncol=7,
        fontsize="small",
        frameon=False,
    )
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png", bbox_inches="tight")  # the legend whole
    plt.close(fig)
