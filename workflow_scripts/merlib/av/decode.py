"""Decoding with ffmpeg (and OpenCV for whole videos): audio as mono int16 PCM, frames as
BGR uint8, a video's frame rate.

A file cut short can decode up to the cut; it is refused as truncated, not silently
shortened. Errors are :class:`~merlib.errors.AudioLoadingError` or
:class:`~merlib.errors.VideoLoadingError` naming the file and ffmpeg's cause.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import AudioLoadingError, NoVideoTrackError, VideoLoadingError
from .ffmpeg import ONE_THREAD, ffmpeg_error, run_ffmpeg
from .probe import probe_video

DETECT_MAX_SIDE = 640  # frames are downscaled to this before face detection


def check_complete(proc: subprocess.CompletedProcess, path: Path, error: type[Exception]) -> None:
    """A file cut short can decode up to the cut (its index at the start), ffmpeg then
    says "partial file", exiting 0 or with a decoder error further on. Such a clip is
    rejected as truncated, not silently shortened."""
    lines = proc.stderr.decode("utf-8", errors="replace").splitlines()
    for line in lines:
        if "partial file" in line:
            cause = line.split("] ", 1)[-1].strip()
            raise error(f"{path}: file is truncated (ffmpeg: {cause})")


def check_decoded(
    proc: subprocess.CompletedProcess, path: Path, error: type[Exception], track: str
) -> None:
    """Raise ``error`` naming ``path`` when ffmpeg's decode of its ``track`` (audio or
    video) was cut short, found no such track, or failed (with ffmpeg's cause)."""
    check_complete(proc, path, error)
    if proc.returncode != 0:
        message = ffmpeg_error(proc)
        if "matches no streams" in message:
            if track == "video":
                raise NoVideoTrackError(no_video_track(path))
            raise error(f"{path}: no {track} track")
        raise error(f"{path}: {track} does not decode ({message})")


def no_video_track(path: str | os.PathLike) -> str:
    """The reason given for a file with no video stream (an audio-only mp4)."""
    return f"{path}: no video track (the file holds no video stream, audio only)"


def has_video_track(path: str | os.PathLike, timeout: float = 60) -> bool:
    """Whether :func:`~merlib.av.probe.probe_video` finds a video stream in ``path`` (a
    cover picture is not one). False only when the file opens and holds no video stream;
    a file that does not open at all counts as having one, so that its own decoding error
    is reported."""
    try:
        return probe_video(path, timeout).has_video
    except VideoLoadingError:
        return True


def check_file(path: Path, error: type[Exception]) -> None:
    if not path.is_file():
        raise error(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise error(f"{path}: file is empty (0 bytes)")


def decode_audio(
    path: str | os.PathLike,
    sample_rate: int = 16000,
    timeout: float = 600,
    from_zero: bool = False,
) -> np.ndarray:
    """The first audio stream of ``path`` as mono int16 at ``sample_rate``. With
    ``from_zero``, sample ``i`` is at ``i / sample_rate`` seconds of the file's timeline:
    an audio track that starts after 0 is padded with silence in front (and gaps in its
    timestamps filled), so times found in it are the video's seconds."""
    path = Path(path)
    check_file(path, AudioLoadingError)
    align = ["-af", "aresample=async=1:first_pts=0"] if from_zero else []
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", *align, "-ac", "1", "-ar", str(sample_rate)]
        + ["-f", "s16le", "-acodec", "pcm_s16le", "-"],
        timeout,
    )
    check_decoded(proc, path, AudioLoadingError, "audio")
    pcm = np.frombuffer(proc.stdout, dtype="<i2")
    if pcm.size == 0:
        raise AudioLoadingError(f"{path}: audio track holds no samples")
    return pcm


def _split_bmp_stream(data: bytes) -> Iterable[bytes]:
    offset = 0
    while offset + 6 <= len(data):
        if data[offset : offset + 2] != b"BM":
            raise VideoLoadingError("unexpected bytes in ffmpeg's BMP frame stream")
        (size,) = struct.unpack_from("<I", data, offset + 2)
        yield data[offset : offset + size]
        offset += size


def _sampled_frames(
    path: Path,
    video_filter: str,
    timeout: float,
    flags: int = cv2.IMREAD_COLOR,
    before: tuple = (),
) -> list[np.ndarray]:
    # Each frame comes as a self-describing BMP, so rotation and odd sizes need no probing.
    proc = run_ffmpeg(
        [*before, "-i", str(path), "-map", "0:v:0", "-vf", video_filter]
        + ["-f", "image2pipe", "-c:v", "bmp", "-"],
        timeout,
    )
    check_decoded(proc, path, VideoLoadingError, "video")
    frames = []
    for blob in _split_bmp_stream(proc.stdout):
        frame = cv2.imdecode(np.frombuffer(blob, np.uint8), flags)
        if frame is None:
            raise VideoLoadingError(f"{path}: a decoded frame could not be read")
        frames.append(frame)
    return frames


def decode_frames(
    path: str | os.PathLike, fps: float, max_side: int = DETECT_MAX_SIDE, timeout: float = 600
) -> tuple[list[np.ndarray], float]:
    """Frames of the first video stream sampled at ``fps``, as BGR uint8, downscaled so
    that the larger side is at most ``max_side``. Returns (frames, scale), where scale is
    the factor from original to returned pixel coordinates."""
    path = Path(path)
    check_file(path, VideoLoadingError)
    scale_filter = _scale_filter(max_side)
    frames = _sampled_frames(path, f"fps={fps},{scale_filter}", timeout)
    if not frames:
        # A clip shorter than one sampling period (a single frame, say) gets nothing from
        # the fps filter's rounding; its last frame is then passed through instead.
        frames = _sampled_frames(path, f"fps={fps}:eof_action=pass,{scale_filter}", timeout)
    if not frames:
        raise VideoLoadingError(f"{path}: video track holds no frames")
    original = _original_width(path, timeout)
    scale = frames[0].shape[1] / original if original else 1.0
    return frames, scale


def _scale_filter(max_side: int) -> str:
    return (
        f"scale=w='if(gte(iw,ih),min({max_side},iw),-2)':h='if(gte(iw,ih),-2,min({max_side},ih))'"
    )


def _bmp_width(data: bytes) -> int | None:
    if len(data) < 26:
        return None
    (width,) = struct.unpack_from("<i", data, 18)
    return abs(width)


def decode_together(
    path: str | os.PathLike,
    sample_rate: int,
    fps: float,
    max_side: int = DETECT_MAX_SIDE,
    timeout: float = 600,
) -> tuple[np.ndarray, list[np.ndarray], float] | None:
    """(pcm, frames, scale) as ``decode_audio`` and ``decode_frames`` give them, from one
    ffmpeg process that decodes the clip once (audio to a temporary file, the first
    full-size frame to another for the scale, sampled frames to the pipe). None when
    anything is off (no track, a decode error, a truncated file, no sample or frame): the
    caller then decodes each modality alone to name the cause. A timeout propagates."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with tempfile.TemporaryDirectory(prefix="merflow-media-") as tmp:
        pcm_file, first_file = Path(tmp) / "audio.s16le", Path(tmp) / "first.bmp"
        proc = run_ffmpeg(
            [*ONE_THREAD, "-i", str(path)]
            + ["-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate)]
            + ["-f", "s16le", "-acodec", "pcm_s16le", str(pcm_file)]
            + ["-map", "0:v:0", "-frames:v", "1", "-f", "image2pipe", "-c:v", "bmp"]
            + [str(first_file)]
            + ["-map", "0:v:0", "-vf", f"fps={fps},{_scale_filter(max_side)}"]
            + ["-f", "image2pipe", "-c:v", "bmp", "-"],
            timeout,
        )
        if proc.returncode != 0 or b"partial file" in proc.stderr or proc.stderr.strip():
            return None
        pcm = np.fromfile(pcm_file, dtype="<i2") if pcm_file.is_file() else np.empty(0)
        original = _bmp_width(first_file.read_bytes()) if first_file.is_file() else None
    frames = []
    try:
        for blob in _split_bmp_stream(proc.stdout):
            frame = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
            if frame is None:
                return None
            frames.append(frame)
    except VideoLoadingError:
        return None
    if pcm.size == 0 or not frames or not original:
        return None
    return pcm, frames, frames[0].shape[1] / original


def _original_width(path: Path, timeout: float) -> int | None:
    """Display width of the first video frame (rotation applied), via one raw frame."""
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:v:0", "-frames:v", "1"]
        + ["-f", "image2pipe", "-c:v", "bmp", "-"],
        timeout,
    )
    if proc.returncode != 0:
        return None
    return _bmp_width(proc.stdout)


def native_fps(path: str | os.PathLike) -> float:
    """The video stream's own frame rate, from its container (no frame is decoded)."""
    path = Path(path)
    check_file(path, VideoLoadingError)
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    finally:
        capture.release()
    if not fps or not np.isfinite(fps) or fps <= 0:
        if not has_video_track(path):
            raise NoVideoTrackError(no_video_track(path))
        raise VideoLoadingError(f"{path}: the video's frame rate cannot be read")
    return float(fps)


@dataclass
class VideoClip:
    frames: list[np.ndarray]
    fps: Fraction


def read_video(path: str | os.PathLike) -> VideoClip:
    """Every frame of ``path`` (BGR uint8, rotation applied) and its frame rate.
    :class:`NoVideoTrackError` when the file holds no video stream (audio only)."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            if Path(path).is_file() and not has_video_track(path):
                raise NoVideoTrackError(no_video_track(path))
            raise VideoLoadingError(f"{path}: video does not open")
        fps = cap.get(cv2.CAP_PROP_FPS)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        if not has_video_track(path):
            raise NoVideoTrackError(no_video_track(path))
        raise VideoLoadingError(f"{path}: video track holds no frames")
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise VideoLoadingError(f"{path}: no usable frame rate ({fps})")
    # 29.97 comes back as 29.97002997...: recover the exact rational rate (30000/1001).
    return VideoClip(frames, Fraction(fps).limit_denominator(1001))


def decode_bottom_band(
    path: str | os.PathLike,
    fps: float,
    fraction: float,
    width: int = 320,
    timeout: float = 3600,
) -> list[np.ndarray]:
    """The bottom ``fraction`` of every frame sampled at ``fps`` (frame ``k`` is the one on
    screen at ``k / fps`` s), scaled to ``width`` pixels wide, as grayscale uint8. Cropped
    and scaled inside ffmpeg (one thread), so a long video costs little memory."""
    path = Path(path)
    check_file(path, VideoLoadingError)
    if not 0 < fraction <= 1:
        raise ValueError(f"band fraction must be in (0, 1], got {fraction}")
    video_filter = (
        f"fps={fps}:round=up,crop=iw:trunc(ih*{fraction}/2)*2:0:ih-trunc(ih*{fraction}/2)*2,"
        f"scale={width}:-2,format=gray"
    )
    return _sampled_frames(path, video_filter, timeout, cv2.IMREAD_GRAYSCALE, tuple(ONE_THREAD))
