"""The mp4 encoder: BGR frames and a WAV file muxed into H.264 + AAC (or the WAV alone,
for a clip that has no video stream).

Encodes are single-threaded with bit-exact flags and no metadata, so the same frames and
audio give the same bytes with the same ffmpeg build (another build may encode
differently: compare decoded media, not bytes). The file is written under a temporary
name and renamed, so a killed encode leaves nothing under the real name.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import MediaError
from .ffmpeg import ffmpeg_exe


class EncodingError(MediaError):
    """ffmpeg could not encode an mp4."""


def encode_mp4(
    frames: Iterable[np.ndarray],
    fps: int | Fraction,
    wav: str | os.PathLike,
    out: str | os.PathLike,
    *,
    crf: int,
    audio_bitrate: str,
    audio_rate: int | None = None,
    faststart: bool = False,
    timeout: float = 600,
) -> None:
    """Mux BGR uint8 ``frames`` (all of one size) at ``fps`` and the audio of ``wav`` into
    an H.264 (``crf``, yuv420p, yuv444p for odd sizes) + AAC (``audio_bitrate``; resampled
    to mono ``audio_rate`` when given) mp4 at ``out``; ``faststart`` puts the index first.
    Frames are streamed to ffmpeg as they come."""
    out = Path(out)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise EncodingError(f"{out}: no frame to encode")
    h, w = first.shape[:2]
    pix_fmt = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(fps)]
    cmd += ["-i", "pipe:0", "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", pix_fmt]
    cmd += ["-threads", "1", "-c:a", "aac", "-b:a", audio_bitrate]
    if audio_rate is not None:
        cmd += ["-ar", str(audio_rate), "-ac", "1"]
    # no metadata, bit-exact muxing and encoding: identical input gives identical bytes
    cmd += ["-map_metadata", "-1", "-fflags", "+bitexact"]
    cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    if faststart:
        cmd += ["-movflags", "+faststart"]
    with (
        atomic_path(out, suffix=".tmp.mp4") as tmp,
        tempfile.TemporaryFile() as err,  # a file, so a chatty ffmpeg never blocks on it
    ):
        proc = subprocess.Popen([*cmd, "-f", "mp4", str(tmp)], stdin=subprocess.PIPE, stderr=err)
        try:
            try:
                for frame in itertools.chain([first], frames):
                    proc.stdin.write(np.ascontiguousarray(frame).tobytes())
                proc.stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg stopped reading: its exit status and message say why
            proc.wait(timeout=timeout)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode("utf-8", "replace").strip()[-500:]
            raise EncodingError(
                f"{out}: ffmpeg could not encode the mp4 (exit {proc.returncode}): {message}"
            )


def encode_audio_mp4(
    wav: str | os.PathLike,
    out: str | os.PathLike,
    *,
    audio_bitrate: str,
    timeout: float = 600,
) -> None:
    """An mp4 holding only the audio of ``wav`` as AAC (``audio_bitrate``), no video
    stream: the copy of a clip that had none. Bit-exact and atomic as :func:`encode_mp4`."""
    out = Path(out)
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(wav), "-map", "0:a:0"]
    cmd += ["-vn", "-threads", "1", "-c:a", "aac", "-b:a", audio_bitrate]
    cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
    with atomic_path(out, suffix=".tmp.mp4") as tmp:
        proc = subprocess.run(
            [*cmd, "-f", "mp4", str(tmp)], capture_output=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip()[-500:]
            raise EncodingError(
                f"{out}: ffmpeg could not encode the mp4 (exit {proc.returncode}): {message}"
            )
