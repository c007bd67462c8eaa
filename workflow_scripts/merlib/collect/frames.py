"""What the picture says: frames sampled inside candidate segments (one seeking decode
per window of nearby segments), face crops and dlib face-identity embeddings, and hard
shot cuts between consecutive sampled frames (a cut to another face ends a turn)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..av.decode import DETECT_MAX_SIDE
from ..av.ffmpeg import ffmpeg_error, ffmpeg_exe
from ..errors import VideoLoadingError
from ..faces.detection import make_detector
from .params import CollectParams

log = logging.getLogger(__name__)


def decode_windows(spans: list[tuple], gap: float) -> list[tuple]:
    """Spans (start, end) merged into decode windows where they are at most ``gap`` s
    apart: each window is decoded by one seeking ffmpeg call, the rest never."""
    windows: list[list[float]] = []
    for start, end in sorted(spans):
        if windows and start - windows[-1][1] <= gap:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(s, e) for s, e in windows]


def iter_frames(
    path: str | os.PathLike,
    start: float,
    end: float,
    fps: float,
    max_side: int = DETECT_MAX_SIDE,
    timeout: float = 3600,
) -> Iterator[tuple[float, np.ndarray]]:
    """(time in the source, BGR frame) sampled at ``fps`` over [start, end), downscaled to
    ``max_side``, streamed from one ffmpeg process (input seek: decoding starts at the
    keyframe before ``start``); one frame in memory at a time."""
    scale = (
        f"scale=w='if(gte(iw,ih),min({max_side},iw),-2)':h='if(gte(iw,ih),-2,min({max_side},ih))'"
    )
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-ss", f"{start:.3f}", "-i", str(path)]
    # round=up: the frame given for time t is the one on screen at t (the default, near,
    # gives the last frame before t + 0.5 / fps: up to half a sampling step late)
    cmd += ["-t", f"{max(end - start, 1e-3):.3f}", "-map", "0:v:0"]
    cmd += ["-vf", f"fps={fps}:round=up,{scale}"]
    cmd += ["-f", "image2pipe", "-c:v", "bmp", "-"]
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        index = 0
        while True:
            head = proc.stdout.read(6)
            if len(head) < 6:
                break
            if head[:2] != b"BM":
                raise VideoLoadingError(f"{path}: unexpected bytes in ffmpeg's frame stream")
            size = int.from_bytes(head[2:6], "little")
            blob = head + proc.stdout.read(size - 6)
            frame = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
            if frame is None:
                raise VideoLoadingError(f"{path}: a decoded frame could not be read")
            yield start + index / fps, frame
            index += 1
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(cmd, timeout)
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            err = ffmpeg_error(subprocess.CompletedProcess(cmd, proc.returncode, b"", stderr))
            raise VideoLoadingError(f"{path}: video does not decode ({err})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


FaceEmbedder = Callable[[np.ndarray, tuple], np.ndarray]


def dlib_face_embedder() -> FaceEmbedder:
    """dlib's 128-d face-identity embedding (the ``face_recognition_models`` ResNet)."""
    import dlib
    import face_recognition_models as frm

    shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def embed(frame: np.ndarray, box: tuple) -> np.ndarray:
        x, y, w, h = (int(v) for v in box)
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        landmarks = shape(rgb, dlib.rectangle(x, y, x + w, y + h))
        return np.asarray(net.compute_face_descriptor(rgb, landmarks), dtype=np.float64)

    return embed


_WORKER_EMBED: list = []  # the embedder of a FacePool worker process


def _start_worker(factory: Callable[[], FaceEmbedder]) -> None:
    _WORKER_EMBED[:] = [factory()]


def _embed_in_worker(crop: np.ndarray, box: tuple) -> np.ndarray:
    return _WORKER_EMBED[0](crop, box)


class FacePool:
    """Face embeddings computed in ``workers`` processes, each with its own embedder from
    ``factory`` (dlib's by default), while the caller goes on decoding: dlib holds the GIL,
    so threads would run them one at a time. Workers are forked (a spawned one would
    re-run the Snakemake script that imported this) and started at once, before any
    ffmpeg decoder of the caller exists. Use as a context manager."""

    def __init__(self, workers: int, factory: Callable[[], FaceEmbedder] = dlib_face_embedder):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.submitted = 0
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(factory,),
        )
        self._pool.submit(int).result()  # a fork context starts every worker at first submit

    def submit(self, crop: np.ndarray, box: tuple):
        """A future of the embedding of the face at ``box`` in ``crop``."""
        self.submitted += 1
        return self._pool.submit(_embed_in_worker, crop, box)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FacePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def frame_signature(frame: np.ndarray) -> np.ndarray:
    """A 32x32 grey thumbnail, zero-mean and unit-norm: two frames of one shot correlate
    highly (a talking head moves little), frames either side of a hard cut do not."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    small -= small.mean()
    return small.ravel() / (np.linalg.norm(small) or 1.0)


def cut_score(a: np.ndarray, b: np.ndarray) -> float:
    """1 - correlation of two :func:`frame_signature` thumbnails (0 same picture, ~1 cut)."""
    return float(1.0 - a @ b)


FACE_CROP_MARGIN = 0.6  # share of the face box kept around it for the identity embedding


def face_crop(frame: np.ndarray, face) -> tuple[np.ndarray, tuple]:
    """The region around a detected face (a copy, so the frame can go) and the face's box
    in it: what :data:`FaceEmbedder` needs, in a few kilobytes."""
    m = FACE_CROP_MARGIN
    h, w = frame.shape[:2]
    x0, y0 = max(0, int(face.x - m * face.w)), max(0, int(face.y - m * face.h))
    x1 = min(w, int(face.x + (1 + m) * face.w))
    y1 = min(h, int(face.y + (1 + m) * face.h))
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    return crop, (face.x - x0, face.y - y0, face.w, face.h)


def main_face(faces: list, ratio: float):
    """The speaker's face among a frame's detections, or None: the largest face, provided
    every other face is smaller than ``ratio`` times its area (a listener's shoulder, ear or
    half-face at the frame edge, or someone in the background; two people of one size in a
    two-shot leave no main face)."""
    if not faces:
        return None
    ranked = sorted(faces, key=lambda f: f.w * f.h, reverse=True)
    main = ranked[0]
    if len(ranked) > 1 and ranked[1].w * ranked[1].h >= ratio * main.w * main.h:
        return None
    return main


@dataclass
class ShotCut:
    """A hard cut between the face_fps frames at ``t0`` and ``t1``: the face of each side
    (the main face, or with ``face_rule`` "one" the only one; None: none) as a crop
    ``(image, box)``, embedded once (:meth:`vector`, or all at once by :meth:`settle`),
    after which the side holds ``()``: the face is there, its image let go."""

    t0: float
    t1: float
    before: tuple | None
    after: tuple | None
    embed: FaceEmbedder
    threshold: float
    _answer: bool | None = None

    _vectors: dict | None = None
    _links: tuple | None = None  # (all cuts, this one's index, max_shot): set by
    # mark_reaction_shots
    _reaction: bool | None = None

    def vector(self, side: str) -> np.ndarray:
        """The identity embedding of the face ``before`` or ``after`` the cut (once)."""
        if self._vectors is None:
            self._vectors = {}
        if side not in self._vectors:
            self._vectors[side] = self.embed(*getattr(self, side))
            setattr(self, side, ())
        return self._vectors[side]

    def settle(self) -> None:
        """Embed each side's face now and let its crop go."""
        for side in ("before", "after"):
            if getattr(self, side) is not None:
                self.vector(side)

    def other_person(self) -> bool:
        if self._answer is None:
            self._answer = False
            if self.before is not None and self.after is not None:
                distance = float(np.linalg.norm(self.vector("before") - self.vector("after")))
                self._answer = distance > self.threshold
        return self._answer

    @property
    def reaction(self) -> bool:
        """Whether this cut leads into, out of, or lies inside a reaction shot: a cut to
        another person, then within ``max_shot`` seconds a cut back to the face shown
        before it (faces embedded only near this cut, and only when asked)."""
        if self._reaction is None:
            self._reaction = False
            if self._links is not None:
                cuts, k, max_shot = self._links
                for n in range(k, -1, -1):
                    into = cuts[n]
                    if self.t0 - into.t1 > max_shot:
                        break
                    if into.before is None or not into.other_person():
                        continue
                    back = _first_cut_back(cuts, n, max_shot)
                    if back is not None and back >= k:
                        self._reaction = True
                        break
        return self._reaction

    def ends_turn(self) -> bool:
        """A cut to another person that is not the way into or out of a reaction shot."""
        return self.other_person() and not self.reaction


def _first_cut_back(cuts: list[ShotCut], n: int, max_shot: float) -> int | None:
    """Index of the first cut after ``cuts[n]``, within ``max_shot`` seconds, back to the
    face shown before ``cuts[n]``."""
    into = cuts[n]
    for m in range(n + 1, len(cuts)):
        back = cuts[m]
        if back.t0 - into.t1 > max_shot:
            return None
        if back.after is None:
            continue
        if float(np.linalg.norm(into.vector("before") - back.vector("after"))) <= into.threshold:
            return m
    return None


def mark_reaction_shots(cuts: list[ShotCut], max_shot: float) -> None:
    """Let each cut tell whether it belongs to a reaction shot (:attr:`ShotCut.reaction`):
    a cut to another person, then within ``max_shot`` seconds a cut back to the face shown
    before it (the listener seen for a moment while the speaker goes on, the editor's
    commonest cut inside a turn); cuts between those two (a moving reaction shot can look
    like several) too. Worked out lazily, so only cuts that matter are embedded."""
    for n, c in enumerate(cuts):
        c._links = (cuts, n, max_shot)


def shot_cuts(
    video_path: str | os.PathLike,
    spans: list[tuple],
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
) -> list[ShotCut]:
    """The hard cuts of the face_fps grid over ``spans`` (decoded as
    :func:`filter_segments` does, nothing else): consecutive frames whose
    :func:`cut_score` is at least ``params.shot_cut_threshold``. Faces are detected only
    on the two frames of a cut and embedded at once (:meth:`ShotCut.settle`): held as
    crops until the scan's end, they grew with the video (about 0.7 GB an hour of speech
    at 480x360), and three quarters of them are compared anyway; whether two are one
    person is decided only when asked."""
    fps = params.face_fps
    detect = make_detector(params.detector, params.detector_model, params.detector_score)
    lazy: dict = {}

    def embed(frame: np.ndarray, box: tuple) -> np.ndarray:
        if "f" not in lazy:
            lazy["f"] = face_embed or dlib_face_embedder()
        return lazy["f"](frame, box)

    def single_face(frame: np.ndarray) -> tuple | None:
        faces = detect(frame)
        if params.face_rule == "main":
            face = main_face(faces, params.main_face_ratio)
        else:
            face = faces[0] if len(faces) == 1 else None
        return None if face is None else face_crop(frame, face)

    cuts: list[ShotCut] = []
    for w_start, w_end in decode_windows(spans, params.window_gap):
        k0 = int(np.ceil(w_start * fps - 1e-6))
        prev = None  # (t, frame, signature)
        for t, frame in iter_frames(video_path, k0 / fps, w_end, fps, timeout=params.timeout):
            sig = frame_signature(frame)
            if prev is not None and cut_score(prev[2], sig) >= params.shot_cut_threshold:
                before, after = single_face(prev[1]), single_face(frame)
                cut = ShotCut(prev[0], t, before, after, embed, params.identity_threshold)
                cut.settle()
                cuts.append(cut)
            prev = (t, frame, sig)
    return cuts


def max_pairwise_distance(vectors: list[np.ndarray]) -> float:
    """Largest Euclidean distance between any two vectors (0 for fewer than two)."""
    if len(vectors) < 2:
        return 0.0
    m = np.stack(vectors)
    d = np.sqrt(((m[:, None, :] - m[None, :, :]) ** 2).sum(-1))
    return float(d.max())
