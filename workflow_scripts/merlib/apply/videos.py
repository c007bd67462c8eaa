"""The videos a model is applied to: every video file under ``apply.videos_dir``,
sub-folders included, each with a stable id made of its relative path."""

from __future__ import annotations

import os
from pathlib import Path

from ..collect.sources import VIDEO_SUFFIXES, clip_stem


class NoVideoError(ValueError):
    """``apply.videos_dir`` is not a folder, or holds no video."""


def list_videos(videos_dir: str | os.PathLike) -> dict[str, str]:
    """Video id -> path relative to ``videos_dir`` for every video file under it (the
    collection's suffixes, any case; sub-folders included, hidden ones skipped). The id is
    the relative path without suffix made safe (``a/b c.mp4`` -> ``a_b_c``); two files
    giving one id, or no video at all, is a :class:`NoVideoError` naming the folder."""
    folder = Path(videos_dir)
    if not folder.is_dir():
        raise NoVideoError(
            f"apply.videos_dir {str(folder)!r} is not a folder. Please point it at a folder "
            "of videos."
        )
    videos: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() not in VIDEO_SUFFIXES:
                continue
            rel = path.relative_to(folder)
            vid = clip_stem(rel.with_suffix("").as_posix())
            if vid in videos:
                raise NoVideoError(
                    f"apply.videos_dir {str(folder)!r}: {videos[vid]!r} and {rel.as_posix()!r} "
                    f"give the same video id {vid!r}. Please rename one of them."
                )
            videos[vid] = rel.as_posix()
    if not videos:
        raise NoVideoError(
            f"apply.videos_dir {str(folder)!r} holds no video (looked for "
            f"{', '.join(VIDEO_SUFFIXES)}, sub-folders included)."
        )
    return videos
