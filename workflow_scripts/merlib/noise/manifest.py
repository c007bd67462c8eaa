"""The noisy copy's manifest: the clean rows, each path pointing at its noisy mp4."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from ..schemas import MANIFEST, table_from_rows


def noisy_manifest(manifest: pa.Table, noise: pa.Table, clips_root: str | os.PathLike) -> pa.Table:
    """MANIFEST rows of the noisy copy: the clean rows of the clips in ``noise``, with
    ``path`` pointing at the noisy mp4, relative to ``clips_root`` (the noisy data_root)."""
    root = Path(clips_root)
    video = dict(
        zip(noise.column("name").to_pylist(), noise.column("video").to_pylist(), strict=True)
    )
    rows = []
    for row in manifest.to_pylist():
        if row["name"] in video:
            rel = Path(video.pop(row["name"])).relative_to(root).as_posix()
            rows.append(row | {"path": rel})
    if video:
        raise ValueError(f"noisy clips not in the manifest: {', '.join(sorted(video)[:5])}")
    return table_from_rows(rows, MANIFEST)
