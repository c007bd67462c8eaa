"""Step 2, face checks (:func:`filter_segments`): duration within bounds, then one decode
pass: a clip is kept when at least ``face_fraction`` of its sampled frames hold exactly
one face (YuNet) and the dlib identities of those faces lie within ``identity_threshold``
of each other (computed only for candidates that passed the other checks)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import VideoLoadingError
from ..faces.detection import make_detector
from ..schemas import COLLECT_CLIPS, table_from_rows
from .frames import (
    FaceEmbedder,
    FacePool,
    decode_windows,
    dlib_face_embedder,
    face_crop,
    iter_frames,
    max_pairwise_distance,
)
from .params import CollectParams

log = logging.getLogger(__name__)


class _LazyFace:
    """A face crop whose identity embedding is computed once, when first asked for (or
    sent ahead to a :class:`FacePool`)."""

    def __init__(self, crop: np.ndarray, box: tuple):
        self.crop, self.box, self._vector, self._future = crop, box, None, None

    def prefetch(self, pool: FacePool) -> None:
        if self._vector is None and self._future is None:
            self._future = pool.submit(self.crop, self.box)

    def vector(self, embed: FaceEmbedder | None) -> np.ndarray:
        if self._vector is None:
            if self._future is not None:
                self._vector = self._future.result()
            else:
                self._vector = embed(self.crop, self.box)
        return self._vector


@dataclass
class _Tally:
    frames: int = 0
    one_face: int = 0
    identity_times: set = field(default_factory=set)
    embeddings: list = field(default_factory=list)


def _identity_times(start: float, end: float, fps: float, n: int) -> set[int]:
    """Indices (in the video's sampled-frame grid) at which identity embeddings are taken."""
    first, last = int(np.ceil(start * fps - 1e-6)), int(np.floor(end * fps - 1e-6))
    if last < first:
        return set()
    return {int(round(v)) for v in np.linspace(first, last, num=min(n, last - first + 1))}


def _one_face_reason(tally: _Tally, params: CollectParams) -> str | None:
    """Why a candidate fails the one-face check (None: it passes)."""
    if tally.frames == 0:
        return "no frame sampled in the segment"
    fraction = tally.one_face / tally.frames
    if fraction < params.face_fraction:
        return (
            f"exactly one face in {tally.one_face} of {tally.frames} sampled frames "
            f"({fraction:.2f} < collect.face_fraction {params.face_fraction:g})"
        )
    return None


def filter_segments(
    video_path: str | os.PathLike,
    segments: pa.Table,
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
    workers: int = 1,
) -> tuple[pa.Table, dict]:
    """Decisions for one video's candidates (:data:`COLLECT_CLIPS`) and timing figures
    (``identity_s``: seconds spent on, or waiting for, ``identity_faces`` embeddings).
    With ``workers`` > 1 (and no ``face_embed``), dlib's identity embeddings are computed
    in that many processes (:class:`FacePool`), each candidate's as soon as its decode
    window is done and it passed the one-face check, while the next windows decode: the
    same decisions as with one."""
    timings = {"decode_detect_s": 0.0, "identity_s": 0.0, "frames": 0, "windows": 0}
    timings["identity_faces"] = 0
    rows = []
    todo = []
    for seg in segments.to_pylist():
        row = {**seg, "kept": False, "frames": None, "one_face_fraction": None}
        row.update({"face_distance": None, "clip": None})
        duration = seg["end"] - seg["start"]
        if seg["reason"] is None and not (params.min_duration <= duration <= params.max_duration):
            row["reason"] = (
                f"duration {duration:.2f} s outside [{params.min_duration:g}, "
                f"{params.max_duration:g}] s"
            )
        rows.append(row)
        if row["reason"] is None:
            todo.append(row)
    if not todo:
        return table_from_rows(rows, COLLECT_CLIPS), timings
    pool = FacePool(workers) if workers > 1 and face_embed is None else None
    try:
        _face_checks(video_path, todo, params, face_embed, pool, timings)
    finally:
        if pool is not None:
            pool.close()
    return table_from_rows(rows, COLLECT_CLIPS), timings


def _face_checks(video_path, todo: list, params: CollectParams, face_embed, pool, timings):
    """The one-face and one-identity checks of ``todo`` (rows updated in place)."""
    detect = make_detector(params.detector, params.detector_model, params.detector_score)
    if pool is None:
        face_embed = face_embed or dlib_face_embedder()
    tallies = {r["name"]: _Tally() for r in todo}
    for r in todo:
        tallies[r["name"]].identity_times = _identity_times(
            r["start"], r["end"], params.face_fps, params.identity_frames
        )
    todo.sort(key=lambda r: r["start"])
    windows = decode_windows([(r["start"], r["end"]) for r in todo], params.window_gap)
    timings["windows"] = len(windows)
    try:
        for w_start, w_end in windows:
            # sample on the video's global grid k / fps so that results do not depend on
            # how segments are grouped into windows
            k0 = int(np.ceil(w_start * params.face_fps - 1e-6))
            t0 = k0 / params.face_fps
            active = [r for r in todo if r["end"] > w_start and r["start"] < w_end]
            tick = time.perf_counter()
            for t, frame in iter_frames(
                video_path, t0, w_end, params.face_fps, timeout=params.timeout
            ):
                k = int(round(t * params.face_fps))
                inside = [r for r in active if r["start"] <= t < r["end"]]
                if not inside:
                    continue
                timings["frames"] += 1
                faces = detect(frame)
                for r in inside:
                    tally = tallies[r["name"]]
                    tally.frames += 1
                    if len(faces) == 1:
                        tally.one_face += 1
                if len(faces) == 1 and any(k in tallies[r["name"]].identity_times for r in inside):
                    crop = _LazyFace(*face_crop(frame, faces[0]))  # embedded if a check needs it
                    for r in inside:
                        if k in tallies[r["name"]].identity_times:
                            tallies[r["name"]].embeddings.append(crop)
            timings["decode_detect_s"] += time.perf_counter() - tick
            if pool is not None:  # a window holds its candidates whole: they are done
                for r in active:
                    if _one_face_reason(tallies[r["name"]], params) is None:
                        for face in tallies[r["name"]].embeddings:
                            face.prefetch(pool)
    except (VideoLoadingError, subprocess.TimeoutExpired) as exc:
        reason = f"{video_path}: video does not decode ({exc})"
        if isinstance(exc, VideoLoadingError):
            reason = str(exc)
        for r in todo:
            r["reason"] = reason
        return
    for r in todo:
        tally = tallies[r["name"]]
        r["frames"] = tally.frames
        if tally.frames:
            r["one_face_fraction"] = tally.one_face / tally.frames
        r["reason"] = _one_face_reason(tally, params)
        if r["reason"] is not None:
            continue
        t_id = time.perf_counter()
        distance = max_pairwise_distance([c.vector(face_embed) for c in tally.embeddings])
        timings["identity_s"] += time.perf_counter() - t_id
        r["face_distance"] = distance
        if distance > params.identity_threshold:
            r["reason"] = (
                f"faces of more than one person (identity distance {distance:.3f} > "
                f"collect.identity_threshold {params.identity_threshold:g})"
            )
            continue
        r["kept"] = True
    embedded = {id(c) for t in tallies.values() for c in t.embeddings if c._vector is not None}
    timings["identity_faces"] = len(embedded)
