"""A manifest's relative clip path resolved under the data root, refusing escapes."""

from __future__ import annotations

from pathlib import Path


def safe_clip_path(data_root: Path, rel: str) -> Path:
    """``data_root / rel``, refusing a relative path that leaves ``data_root``."""
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise ValueError(f"clip path {rel!r} escapes data_root {data_root}")
    return data_root / rel
