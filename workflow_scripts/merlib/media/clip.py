"""One clip of stage extract_media: decoded once (audio and sampled frames from one ffmpeg
process; only when that fails each modality alone, so each gets its own reason), then
its best face per frame cropped (``face_align: box``) or aligned (``arcface``)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..av.decode import decode_audio, decode_frames, decode_together, native_fps
from ..errors import AudioLoadingError, NoFaceError, VideoLoadingError
from ..faces.crops import aligned_crop
from ..faces.detection import Detector
from .params import NATIVE, MediaParams


def sampling_rate(path: Path, face_fps: float | str) -> float:
    """Frames per second to sample ``path`` at: ``face_fps``, or the video's own rate when
    ``face_fps`` is ``native``."""
    if face_fps == NATIVE:
        return native_fps(path)
    return float(face_fps)


@dataclass
class DecodedClip:
    name: str
    path: Path
    pcm: np.ndarray | None = None
    frames: list[np.ndarray] | None = None
    scale: float = 1.0
    fps: float = 0.0  # the rate the frames were sampled at
    audio_error: str | None = None
    video_error: str | None = None


def decode_clip(name: str, path: Path, params: MediaParams) -> DecodedClip:
    """Decode a clip's audio and sampled frames once (one ffmpeg process); when that fails,
    each modality alone, so that its error becomes its own reason."""
    clip = DecodedClip(name, path)
    try:
        clip.fps = sampling_rate(path, params.face_fps)
    except VideoLoadingError as exc:  # no rate (face_fps native), no frames; audio still
        clip.video_error = str(exc)
    if clip.fps:
        try:
            together = decode_together(path, params.sample_rate, clip.fps, timeout=params.timeout)
        except subprocess.TimeoutExpired as exc:
            clip.audio_error = clip.video_error = _reason(exc, path)
            return clip
        if together is not None:
            clip.pcm, clip.frames, clip.scale = together
            return clip
    try:
        clip.pcm = decode_audio(path, params.sample_rate, params.timeout)
    except (AudioLoadingError, subprocess.TimeoutExpired) as exc:
        clip.audio_error = _reason(exc, path)
    if clip.fps:
        try:
            clip.frames, clip.scale = decode_frames(path, clip.fps, timeout=params.timeout)
        except (VideoLoadingError, subprocess.TimeoutExpired) as exc:
            clip.video_error = _reason(exc, path)
    return clip


def clip_rows(
    clip: DecodedClip, params: MediaParams, detect: Detector
) -> tuple[dict | None, list[dict], list[dict]]:
    """Audio row, face rows and reject rows of one decoded clip."""
    rejects = []
    audio_row = None
    if clip.pcm is not None:
        audio_row = {
            "name": clip.name,
            "sample_rate": params.sample_rate,
            "duration": clip.pcm.size / params.sample_rate,
            "pcm": clip.pcm.astype("<i2").tobytes(),
        }
    else:
        rejects.append({"name": clip.name, "modality": "audio", "reason": clip.audio_error})
    face_rows = []
    if clip.frames is not None:
        try:
            face_rows = _face_rows(clip, params, detect)
            if not face_rows:
                raise NoFaceError(
                    f"{clip.path}: no face found in any of {len(clip.frames)} sampled frames"
                )
        except (NoFaceError, VideoLoadingError) as exc:
            # A crop that cannot be made (landmarks with no transform, say) rejects the
            # clip's visual modality with its reason, as no face does.
            face_rows = []
            rejects.append({"name": clip.name, "modality": "visual", "reason": str(exc)})
    else:
        rejects.append({"name": clip.name, "modality": "visual", "reason": clip.video_error})
    return audio_row, face_rows, rejects


def _face_rows(clip: DecodedClip, params: MediaParams, detect: Detector) -> list[dict]:
    rows = []
    for index, frame in enumerate(clip.frames or []):
        faces = detect(frame)
        if not faces:
            continue
        best = max(faces, key=lambda f: f.score)
        crop = aligned_crop(
            frame, best, params.face_align, params.face_size, clip.path, params.detector
        )
        ok, png = cv2.imencode(".png", crop)
        if not ok:
            raise VideoLoadingError(f"{clip.path}: could not encode a face crop")
        rows.append(
            {
                "name": clip.name,
                "frame": index,
                "time": index / clip.fps,
                "n_faces": len(faces),
                "score": best.score,
                "x": int(round(best.x / clip.scale)),
                "y": int(round(best.y / clip.scale)),
                "w": int(round(best.w / clip.scale)),
                "h": int(round(best.h / clip.scale)),
                "crop": png.tobytes(),
            }
        )
    return rows


def _reason(exc: Exception, path: Path) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"{path}: ffmpeg did not finish within {exc.timeout:.0f} s"
    return str(exc)
