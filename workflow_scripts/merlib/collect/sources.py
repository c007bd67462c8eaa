"""The long videos to collect from: listing them, their subtitle files and clip names
(a video's duration and streams: :func:`merlib.av.probe.probe_video`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..subtitles import SUBTITLE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".flv", ".webm", ".ts", ".m4v", ".mpg", ".rmvb")


def clip_stem(stem: str) -> str:
    """A source file stem made safe for clip names (letters, digits, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "video"


class NoVideoError(ValueError):
    """A videos folder (``collect.videos_dir``, ``apply.videos_dir``) is not a folder,
    holds no video, or has two files that give one video id."""


def list_videos(videos_dir: str | os.PathLike, key: str = "collect.videos_dir") -> dict[str, str]:
    """Map video id (safe stem) -> path relative to ``videos_dir`` for each video in it or
    in its sub-folders (the suffixes of :data:`VIDEO_SUFFIXES`, any case; hidden files and
    folders skipped). A video in a sub-folder has the folders in its id
    (``season1/ep01.mkv``: ``season1_ep01``), so episodes of one name in several seasons
    stay apart. A missing or empty folder, or two files of one id, is a
    :class:`NoVideoError` naming the config ``key`` and the folder."""
    folder = Path(videos_dir)
    if not folder.is_dir():
        raise NoVideoError(
            f"{key} {str(folder)!r} is not a folder. Please point it at a folder of videos."
        )
    videos: dict[str, str] = {}
    for entry in sorted(folder.rglob("*")):
        rel = entry.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not entry.is_file() or entry.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        vid = clip_stem("_".join(rel.with_suffix("").parts))
        if vid in videos:
            raise NoVideoError(
                f"{key} {str(folder)!r}: {videos[vid]!r} and {rel.as_posix()!r} "
                f"give the same video id {vid!r}. Please rename one of them."
            )
        videos[vid] = rel.as_posix()
    if not videos:
        raise NoVideoError(
            f"{key} {str(folder)!r} holds no video file (looked for "
            f"{', '.join(VIDEO_SUFFIXES)} in it and its sub-folders). Please point it at a "
            "folder of videos."
        )
    return videos


def find_subtitle(video: str | os.PathLike) -> Path | None:
    """The subtitle file of the same stem as ``video``, if any (``.srt`` preferred)."""
    video = Path(video)
    for suffix in SUBTITLE_SUFFIXES:
        for candidate in (video.with_suffix(suffix), video.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def segment_name(vid: str, start: float) -> str:
    return f"{vid}_{int(round(start * 1000)):09d}"
