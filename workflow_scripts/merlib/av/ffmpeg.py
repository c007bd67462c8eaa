"""Which ffmpeg merflow runs, and running it.

The binary is, in this order: the one ``MERFLOW_FFMPEG`` names (the user's choice, used
as is when new enough, a clear error when not); the one the pinned ``imageio-ffmpeg``
wheel ships (what merflow is tested with, and what keeps encodes byte-identical across
machines); else the ``ffmpeg`` on ``PATH`` when it is new enough. An ffmpeg on ``PATH``
is never preferred to the pinned one: Debian 12's ffmpeg 5.1 (what many clusters and
workstations have) lacks options merflow uses (``-display_rotation``: "Option not
found"), so it is used only when the wheel's binary is missing, and refused when too old.

The choice is made once per process and logged (binary, version and why).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

# FFmpeg 5.1 (Debian 12) refuses -display_rotation; the wheel's binary is 9.x.
MIN_VERSION = (6, 0)
ENV = "MERFLOW_FFMPEG"
# ffmpeg decodes and filters in one thread: a job runs `threads` clips at once already,
# and ffmpeg's own threads (one per core) only cost their start and switching.
ONE_THREAD = ["-threads", "1", "-filter_threads", "1"]
_VERSION = re.compile(r"ffmpeg version n?(\d+)\.(\d+)")


class FfmpegError(RuntimeError):
    """No usable ffmpeg: the one named is missing, does not run, or is too old."""


@dataclass(frozen=True)
class Ffmpeg:
    path: str
    version: tuple[int, int] | None  # None: a build that names no release (git master)
    banner: str  # the first line of ``ffmpeg -version``
    why: str


def ffmpeg_version(path: str) -> tuple[tuple[int, int] | None, str]:
    """(major, minor) of the ffmpeg at ``path`` (None when its banner names no release)
    and its banner line; :class:`FfmpegError` when it does not run."""
    try:
        proc = subprocess.run(
            [path, "-hide_banner", "-version"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FfmpegError(f"ffmpeg {path!r} does not run: {exc}") from exc
    banner = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    line = banner[0] if banner else ""
    if proc.returncode != 0 or not line.startswith("ffmpeg version"):
        raise FfmpegError(f"{path!r} is not a working ffmpeg (`-version` said {line!r})")
    match = _VERSION.match(line)
    return ((int(match[1]), int(match[2])) if match else None), line


def _too_old(version: tuple[int, int] | None) -> bool:
    return version is not None and version < MIN_VERSION


def _min() -> str:
    return ".".join(map(str, MIN_VERSION))


def _pinned() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):  # the wheel is missing or ships no binary here
        return None


def find_ffmpeg() -> Ffmpeg:
    """The ffmpeg to run (see the module docstring for the order); not cached."""
    named = os.environ.get(ENV)
    if named:
        path = shutil.which(named) or named
        version, banner = ffmpeg_version(path)
        if _too_old(version):
            raise FfmpegError(
                f"{ENV}={named!r} is ffmpeg {version[0]}.{version[1]} ({banner}); merflow "
                f"needs ffmpeg >= {_min()}. Unset {ENV} to use the ffmpeg of the pinned "
                "imageio-ffmpeg wheel, or name a newer build."
            )
        return Ffmpeg(path, version, banner, f"named by {ENV}")
    pinned = _pinned()
    if pinned:
        version, banner = ffmpeg_version(pinned)
        return Ffmpeg(pinned, version, banner, "the pinned imageio-ffmpeg wheel's binary")
    found = shutil.which("ffmpeg")
    if not found:
        raise FfmpegError(
            f"no ffmpeg: imageio-ffmpeg ships none here, {ENV} is unset and PATH has none. "
            f"Install imageio-ffmpeg or set {ENV} to an ffmpeg >= {_min()}."
        )
    version, banner = ffmpeg_version(found)
    if _too_old(version):
        raise FfmpegError(
            f"the ffmpeg on PATH ({found}) is {version[0]}.{version[1]} ({banner}) and "
            f"imageio-ffmpeg ships none here; merflow needs ffmpeg >= {_min()}: install "
            f"imageio-ffmpeg or set {ENV} to a newer build."
        )
    return Ffmpeg(found, version, banner, "on PATH (imageio-ffmpeg ships none here)")


@functools.cache
def _chosen(named: str | None, path_env: str | None) -> Ffmpeg:
    chosen = find_ffmpeg()
    known = "" if chosen.version else " (its banner names no release; assumed recent)"
    log.info("ffmpeg: %s, %s%s: %s", chosen.path, chosen.why, known, chosen.banner)
    return chosen


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary to use, chosen once per ``MERFLOW_FFMPEG`` and ``PATH``."""
    return _chosen(os.environ.get(ENV), os.environ.get("PATH")).path


def run_ffmpeg(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def ffmpeg_error(proc: subprocess.CompletedProcess) -> str:
    """ffmpeg's own explanation: its first error line, which names the cause."""
    lines = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
    if any("matches no streams" in line for line in lines):
        return "matches no streams"
    for line in lines:
        line = line.split("] ", 1)[-1].strip()
        if line:
            return line
    return f"ffmpeg exited with status {proc.returncode}"
