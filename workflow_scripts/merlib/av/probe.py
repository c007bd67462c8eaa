"""A media file's duration and streams, from ffmpeg's header dump (no decoding): the one
answer to "has this file audio, video, how long is it" for collection, apply and media."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import VideoLoadingError
from .ffmpeg import ffmpeg_error, ffmpeg_exe


@dataclass
class Probe:
    """What :func:`probe_video` found (``duration`` None when the header gives none)."""

    duration: float | None
    has_audio: bool
    has_video: bool


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_video(path: str | os.PathLike, timeout: float = 60) -> Probe:
    """Duration and tracks of a media file, from ffmpeg's header dump; errors name it."""
    path = Path(path)
    if not path.is_file():
        raise VideoLoadingError(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise VideoLoadingError(f"{path}: file is empty (0 bytes)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    text = proc.stderr.decode("utf-8", errors="replace")
    streams = [line for line in text.splitlines() if line.strip().startswith("Stream #")]
    if not streams:
        reason = ffmpeg_error(proc) if "Invalid data" in text else "no audio or video stream"
        raise VideoLoadingError(f"{path}: not a readable video ({reason})")
    match = _DURATION.search(text)
    duration = None
    if match:
        h, m, s = match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return Probe(
        duration=duration,
        has_audio=any(": Audio:" in line for line in streams),
        has_video=any(": Video:" in line and "attached pic" not in line for line in streams),
    )
