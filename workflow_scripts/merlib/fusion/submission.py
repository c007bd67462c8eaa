"""The challenge submission file written from the predictions table."""

from __future__ import annotations

import os

import pyarrow as pa

from .. import metrics


def write_submission(predictions: pa.Table, path: str | os.PathLike) -> None:
    """Write the challenge submission CSV (header ``name,discrete``), atomically."""
    lines = ["name,discrete"]
    for name, label in zip(
        predictions.column("name").to_pylist(),
        predictions.column("discrete").to_pylist(),
        strict=True,
    ):
        if "," in name or "\n" in name:
            raise ValueError(f"clip name {name!r} cannot be written to a plain CSV")
        lines.append(f"{name},{label}")
    metrics.write_text_atomic("\n".join(lines) + "\n", path)
