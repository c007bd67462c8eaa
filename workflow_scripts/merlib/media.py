"""Per-clip media extraction: 16 kHz mono audio and face crops at a fixed frame rate.

Decoding is done by ffmpeg (the one on PATH, else the binary that ships in the
``imageio-ffmpeg`` wheel; ``MERFLOW_FFMPEG`` overrides both). Faces are found by YuNet:
OpenCV's ``FaceDetectorYN`` with the OpenCV Zoo ONNX file shipped in ``models/yunet/``
(the default: about twice as fast) or the ``yuface`` wheel (weights compiled in).

A clip is decoded by one ffmpeg process giving both its audio and its sampled frames;
only when that fails is each modality decoded alone, so each gets its own reason. Frames
are sampled at ``face_fps`` per second, or every frame at the video's own rate
(``native``); a face crop is a square around the detection box (``face_align: box``) or
the face aligned on its five landmarks (``arcface``, :mod:`merlib.alignment`). A job's
worker threads each take whole clips: decode, detection, crops.

Each clip's problems are caught per modality and returned as reasons; a shard always
completes.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa

from .alignment import align_face
from .errors import AudioLoadingError, NoFaceError, VideoLoadingError
from .progress import Progress
from .schemas import AUDIO, FACES, MEDIA_REJECTS, table_from_rows

DETECT_MAX_SIDE = 640  # frames are downscaled to this before face detection
# ffmpeg decodes and filters in one thread: a job runs `threads` clips at once already,
# and ffmpeg's own threads (one per core) only cost their start and switching.
ONE_THREAD = ["-threads", "1", "-filter_threads", "1"]
CROP_MARGIN = 1.25  # square crop side = margin x the larger side of the face box
# The YuNet ONNX shipped in the repository (MIT, see models/yunet/LICENSE).
YUNET_ONNX = (
    Path(__file__).resolve().parents[2] / "models" / "yunet" / "face_detection_yunet_2026may.onnx"
)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary to use."""
    override = os.environ.get("MERFLOW_FFMPEG")
    if override:
        return override
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def limit_threads(n: int) -> None:
    """Use ``n`` threads in OpenMP (yuface), OpenCV and torch. yuface's OpenMP otherwise
    starts one thread per core and, on a loaded machine, is 5-10x slower than with one.
    Call before the first detection."""
    os.environ["OMP_NUM_THREADS"] = str(max(1, n))
    cv2.setNumThreads(max(1, n))
    try:
        import torch

        torch.set_num_threads(max(1, n))
    except ImportError:  # pragma: no cover - torch is a pinned requirement
        pass


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


def _check_complete(proc: subprocess.CompletedProcess, path: Path, error: type[Exception]) -> None:
    """A file cut short can decode up to the cut (its index at the start), ffmpeg then
    says "partial file", exiting 0 or with a decoder error further on. Such a clip is
    rejected as truncated, not silently shortened."""
    lines = proc.stderr.decode("utf-8", errors="replace").splitlines()
    for line in lines:
        if "partial file" in line:
            cause = line.split("] ", 1)[-1].strip()
            raise error(f"{path}: file is truncated (ffmpeg: {cause})")


def _check_file(path: Path, error: type[Exception]) -> None:
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
    _check_file(path, AudioLoadingError)
    align = ["-af", "aresample=async=1:first_pts=0"] if from_zero else []
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", *align, "-ac", "1", "-ar", str(sample_rate)]
        + ["-f", "s16le", "-acodec", "pcm_s16le", "-"],
        timeout,
    )
    _check_complete(proc, path, AudioLoadingError)
    if proc.returncode != 0:
        message = ffmpeg_error(proc)
        if "matches no streams" in message:
            raise AudioLoadingError(f"{path}: no audio track")
        raise AudioLoadingError(f"{path}: audio does not decode ({message})")
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


def _sampled_frames(path: Path, video_filter: str, timeout: float) -> list[np.ndarray]:
    # Each frame comes as a self-describing BMP, so rotation and odd sizes need no probing.
    proc = run_ffmpeg(
        ["-i", str(path), "-map", "0:v:0", "-vf", video_filter]
        + ["-f", "image2pipe", "-c:v", "bmp", "-"],
        timeout,
    )
    _check_complete(proc, path, VideoLoadingError)
    if proc.returncode != 0:
        message = ffmpeg_error(proc)
        if "matches no streams" in message:
            raise VideoLoadingError(f"{path}: no video track")
        raise VideoLoadingError(f"{path}: video does not decode ({message})")
    frames = []
    for blob in _split_bmp_stream(proc.stdout):
        frame = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
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
    _check_file(path, VideoLoadingError)
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
        [
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "bmp",
            "-",
        ],
        timeout,
    )
    if proc.returncode != 0:
        return None
    return _bmp_width(proc.stdout)


@dataclass(frozen=True)
class Face:
    score: float
    x: int
    y: int
    w: int
    h: int
    # The five YuNet landmarks (right eye, left eye, nose tip, right and left mouth
    # corners) as x0, y0, ..., x4, y4 in the detection frame's pixels.
    landmarks: tuple[float, ...] | None = None


Detector = Callable[[np.ndarray], list[Face]]


def make_detector(kind: str, model: str | None = None, score: float = 0.6) -> Detector:
    """A YuNet face detector: ``yuface`` (built in) or ``opencv`` (``model`` = ONNX path;
    None = the ONNX shipped in ``models/yunet/``)."""
    if kind == "yuface":
        import yuface

        def detect(frame: np.ndarray) -> list[Face]:
            scores, boxes, marks = yuface.detect(np.ascontiguousarray(frame), conf=score)
            return [
                Face(float(s) / 100.0, *(int(v) for v in box), tuple(float(v) for v in mark))
                for s, box, mark in zip(scores, boxes, marks, strict=True)
            ]

        return detect
    if kind == "opencv":
        model = YUNET_ONNX if model is None else model
        if not model or not Path(model).is_file():
            raise FileNotFoundError(f"YuNet ONNX model not found: {model!r}")
        net = cv2.FaceDetectorYN.create(str(model), "", (320, 320), score, 0.3, 5000)

        def detect(frame: np.ndarray) -> list[Face]:
            h, w = frame.shape[:2]
            net.setInputSize((w, h))
            _, found = net.detect(frame)
            if found is None:
                return []
            return [
                Face(
                    float(r[-1]), *(int(round(v)) for v in r[:4]), tuple(float(v) for v in r[4:14])
                )
                for r in found
            ]

        return detect
    raise ValueError(f"unknown face detector {kind!r}: expected 'yuface' or 'opencv'")


def crop_face(frame: np.ndarray, face: Face, size: int) -> np.ndarray:
    """A square crop around ``face`` (padded by edge replication), resized to ``size``."""
    side = max(2, int(round(max(face.w, face.h) * CROP_MARGIN)))
    cx, cy = face.x + face.w / 2.0, face.y + face.h / 2.0
    x0, y0 = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


NATIVE = "native"  # face_fps: every frame, at the video's own frame rate
FACE_ALIGNS = ("box", "arcface")


@dataclass
class MediaParams:
    sample_rate: int = 16000
    face_fps: float | str = 4.0
    face_size: int = 112
    face_align: str = "box"
    detector: str = "opencv"
    detector_model: str | None = None
    detector_score: float = 0.6
    timeout: float = 600.0


def face_crop(frame: np.ndarray, face: Face, params: MediaParams, path: Path) -> np.ndarray:
    """The crop of ``face`` that ``params.face_align`` asks for: ``box`` (a square around
    the detection box) or ``arcface`` (the five landmarks aligned onto the ArcFace
    template). A detector that gave no landmarks cannot align: a clear error, no fallback."""
    if params.face_align == "box":
        return crop_face(frame, face, params.face_size)
    if params.face_align == "arcface":
        if face.landmarks is None or len(face.landmarks) != 10:
            raise VideoLoadingError(
                f"{path}: face_align arcface needs the detector's five landmarks; "
                f"detector {params.detector!r} gave none"
            )
        return align_face(frame, np.reshape(face.landmarks, (5, 2)), params.face_size)
    raise ValueError(f"unknown face_align {params.face_align!r}: expected one of {FACE_ALIGNS}")


def native_fps(path: str | os.PathLike) -> float:
    """The video stream's own frame rate, from its container (no frame is decoded)."""
    path = Path(path)
    _check_file(path, VideoLoadingError)
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    finally:
        capture.release()
    if not fps or not np.isfinite(fps) or fps <= 0:
        raise VideoLoadingError(f"{path}: the video's frame rate cannot be read")
    return float(fps)


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
        ok, png = cv2.imencode(".png", face_crop(frame, best, params, clip.path))
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


def safe_clip_path(data_root: Path, rel: str) -> Path:
    """``data_root / rel``, refusing a relative path that leaves ``data_root``."""
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise ValueError(f"clip path {rel!r} escapes data_root {data_root}")
    return data_root / rel


def extract_shard(
    clips: list[dict], data_root: str | os.PathLike, params: MediaParams, workers: int = 1
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(audio, faces, rejects) tables for manifest rows ``clips`` (dicts with name, path).

    Up to ``workers`` clips are processed at once, each whole in one worker thread: its
    ffmpeg decode (a subprocess), then detection and crops (OpenCV releases the GIL), with
    the thread's own detector, made once per thread. Rows come out in clip order, and at
    most ``2 * workers`` clips are in flight.
    """
    root = Path(data_root)
    # Made here first so that a missing model fails the shard before any clip is decoded.
    detectors = _ThreadDetectors(params)
    audio_rows, face_rows, reject_rows = [], [], []
    window = max(1, workers) * 2
    clips = list(clips)
    progress = Progress("media", len(clips))

    def process(name: str, path: Path):
        return clip_rows(decode_clip(name, path, params), params, detectors.get())

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        todo = iter(clips)
        while True:
            while len(pending) < window:
                clip = next(todo, None)
                if clip is None:
                    break
                path = safe_clip_path(root, clip["path"])
                pending.append(pool.submit(process, clip["name"], path))
            if not pending:
                break
            audio_row, faces, rejects = pending.popleft().result()
            if audio_row is not None:
                audio_rows.append(audio_row)
            face_rows.extend(faces)
            reject_rows.extend(rejects)
            progress.update()
    return (
        table_from_rows(audio_rows, AUDIO),
        table_from_rows(face_rows, FACES),
        table_from_rows(reject_rows, MEDIA_REJECTS),
    )


class _ThreadDetectors:
    """One detector per thread, made on the thread's first clip: an OpenCV network is not
    safe to share between threads. yuface's detections are serialised by one lock: its
    thread safety is not documented."""

    def __init__(self, params: MediaParams):
        self.params = params
        self.local = threading.local()
        self.local.detect = self._make()
        self.lock = threading.Lock()

    def _make(self) -> Detector:
        p = self.params
        return make_detector(p.detector, p.detector_model, p.detector_score)

    def get(self) -> Detector:
        detect = getattr(self.local, "detect", None)
        if detect is None:
            detect = self.local.detect = self._make()
        if self.params.detector != "yuface":
            return detect

        def serialised(frame: np.ndarray) -> list[Face]:
            with self.lock:
                return detect(frame)

        return serialised
