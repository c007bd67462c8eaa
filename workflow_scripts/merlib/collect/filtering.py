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
    main_face,
    max_pairwise_distance,
)
from .params import CollectParams

# share of a clip's compared main faces that must be one person (face_rule main): with
# identity_frames 5, one face may be someone else (a reaction shot, a dlib miss on film),
# a clip half one person and half another fails
IDENTITY_SHARE = 0.75
# the counts behind each face decision, columns of the clips table
FACE_COUNT_COLUMNS = (
    "main_face_frames",
    "multi_face_frames",
    "identity_faces",
    "identity_agreeing",
)

log = logging.getLogger(__name__)


class _LazyFace:
    """A face crop whose identity embedding is computed once, when first asked for (or
    sent ahead to a :class:`FacePool`); the crop is let go once it is embedded or sent, so
    a video's turns hold 128 numbers per compared face, not an image."""

    def __init__(self, crop: np.ndarray, box: tuple):
        self.crop, self.box, self._vector, self._future = crop, box, None, None

    def prefetch(self, pool: FacePool) -> None:
        if self._vector is None and self._future is None:
            self._future = pool.submit(self.crop, self.box)
            self.crop = None  # the pool holds it until a worker has it

    def vector(self, embed: FaceEmbedder | None) -> np.ndarray:
        if self._vector is None:
            if self._future is not None:
                self._vector = self._future.result()
                self._future = None
            else:
                self._vector = embed(self.crop, self.box)
            self.crop = None
        return self._vector


@dataclass
class _Tally:
    frames: int = 0
    one_face: int = 0  # frames with exactly one detection
    main_face: int = 0  # frames with one main face (:func:`main_face`)
    multi_face: int = 0  # frames with more than one detection
    crops: list = field(default_factory=list)  # (k, _LazyFace) of the frames that count
    embeddings: list = field(default_factory=list)  # the crops whose identity is compared
    done: bool = False  # its window is decoded: crops chosen, the rest let go


def _counted(tally: _Tally, params: CollectParams) -> int:
    return tally.main_face if params.face_rule == "main" else tally.one_face


def _spread(items: list, n: int) -> list:
    """``n`` of ``items`` evenly spaced, first and last included (all if fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[int(round(i))] for i in np.linspace(0, len(items) - 1, num=n)]


def _one_face_reason(tally: _Tally, params: CollectParams) -> str | None:
    """Why a candidate fails the face check (None: it passes)."""
    if tally.frames == 0:
        return "no frame sampled in the segment"
    counted = _counted(tally, params)
    fraction = counted / tally.frames
    if fraction < params.face_fraction:
        what = "one main face" if params.face_rule == "main" else "exactly one face"
        return (
            f"{what} in {counted} of {tally.frames} sampled frames "
            f"({fraction:.2f} < collect.face_fraction {params.face_fraction:g})"
        )
    return None


def _agreeing(vectors: list[np.ndarray], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the largest group of ``vectors`` within ``threshold`` of one of them (a
    medoid), and their pairwise distances."""
    m = np.stack(vectors)
    d = np.sqrt(((m[:, None, :] - m[None, :, :]) ** 2).sum(-1))
    close = d <= threshold
    members = np.flatnonzero(close[int(np.argmax(close.sum(axis=1)))])
    return members, d


def identity_agreement(vectors: list[np.ndarray], threshold: float) -> tuple[int, float]:
    """The largest group of faces within ``threshold`` of one of them (a medoid): its size
    and the largest distance between two of its members."""
    if len(vectors) < 2:
        return len(vectors), 0.0
    members, d = _agreeing(vectors, threshold)
    return len(members), float(d[np.ix_(members, members)].max())


def turn_identity(vectors: list[np.ndarray], threshold: float) -> np.ndarray:
    """One identity for a kept clip's compared faces: the mean of the agreeing group's
    (:func:`identity_agreement`), so that a reaction shot's face does not pull it."""
    if len(vectors) < 2:
        return np.asarray(vectors[0], dtype=np.float64)
    members, _ = _agreeing(vectors, threshold)
    return np.stack(vectors)[members].astype(np.float64).mean(axis=0)


def filter_segments(
    video_path: str | os.PathLike,
    segments: pa.Table,
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
    workers: int = 1,
    identities: dict | None = None,
) -> tuple[pa.Table, dict]:
    """Decisions for one video's candidates (:data:`COLLECT_CLIPS`) and timing figures
    (``identity_s``: seconds spent on, or waiting for, ``identity_faces`` embeddings).
    With ``workers`` > 1 (and no ``face_embed``), dlib's identity embeddings are computed
    in that many processes (:class:`FacePool`), each candidate's as soon as its decode
    window is done and it passed the one-face check, while the next windows decode: the
    same decisions as with one. ``identities``, when given, is filled with each kept
    candidate's name -> its face identity (:func:`turn_identity` of the faces its identity
    check compared: no extra embedding); the decisions are the same with or without it."""
    timings = {"decode_detect_s": 0.0, "identity_s": 0.0, "frames": 0, "windows": 0}
    timings["identity_faces"] = 0
    rows = []
    todo = []
    for seg in segments.to_pylist():
        row = {**seg, "kept": False, "frames": None, "one_face_fraction": None}
        row.update({"face_distance": None, "clip": None})
        row.update(dict.fromkeys(FACE_COUNT_COLUMNS))
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
        _face_checks(video_path, todo, params, face_embed, pool, timings, identities)
    finally:
        if pool is not None:
            pool.close()
    return table_from_rows(rows, COLLECT_CLIPS), timings


def _settle(tally: _Tally, params: CollectParams, face_embed, pool, timings) -> None:
    """A decoded candidate's faces: ``identity_frames`` of its crops chosen and embedded
    now (in ``pool`` when there is one), or none kept when it fails the one-face check.
    :func:`_face_checks` settles a candidate at the first frame past its end, so no crop
    outlives its turn and memory does not grow with the video (continuous speech is one
    decode window: settled per window, a film's crops were held to its end)."""
    tally.done = True
    chosen = [c for _, c in _spread(tally.crops, params.identity_frames)]
    tally.crops = []
    if _one_face_reason(tally, params) is not None:
        return  # never compared: its decision does not need them
    tally.embeddings = chosen
    t_id = time.perf_counter()
    for face in chosen:
        if pool is not None:
            face.prefetch(pool)
        else:
            face.vector(face_embed)
    timings["identity_s"] += time.perf_counter() - t_id


def _face_checks(
    video_path, todo: list, params: CollectParams, face_embed, pool, timings, identities=None
):
    """The one-face and one-identity checks of ``todo`` (rows updated in place; each kept
    row's identity into ``identities`` when given)."""
    detect = make_detector(params.detector, params.detector_model, params.detector_score)
    if pool is None:
        face_embed = face_embed or dlib_face_embedder()
    tallies = {r["name"]: _Tally() for r in todo}
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
            tick, settling = time.perf_counter(), timings["identity_s"]
            for t, frame in iter_frames(
                video_path, t0, w_end, params.face_fps, timeout=params.timeout
            ):
                k = int(round(t * params.face_fps))
                # decoded whole: settled now, so that a window of continuous speech (a
                # film's) holds one turn's crops, not the window's
                ended = [r for r in active if r["end"] <= t]
                if ended:
                    for r in ended:
                        _settle(tallies[r["name"]], params, face_embed, pool, timings)
                    active = [r for r in active if r["end"] > t]
                inside = [r for r in active if r["start"] <= t < r["end"]]
                if not inside:
                    continue
                timings["frames"] += 1
                faces = detect(frame)
                main = main_face(faces, params.main_face_ratio)
                counts = (
                    main if params.face_rule == "main" else (faces[0] if len(faces) == 1 else None)
                )
                crop = None if counts is None else _LazyFace(*face_crop(frame, counts))
                for r in inside:
                    tally = tallies[r["name"]]
                    tally.frames += 1
                    tally.one_face += len(faces) == 1
                    tally.main_face += main is not None
                    tally.multi_face += len(faces) > 1
                    if crop is not None:  # embedded only if chosen for the identity check
                        tally.crops.append((k, crop))
            settling = timings["identity_s"] - settling  # identity time inside the loop
            timings["decode_detect_s"] += time.perf_counter() - tick - settling
            for r in active:  # a window holds its candidates whole: the rest are done
                tally = tallies[r["name"]]
                if r["end"] <= w_end and not tally.done:
                    _settle(tally, params, face_embed, pool, timings)
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
        r["main_face_frames"], r["multi_face_frames"] = tally.main_face, tally.multi_face
        r["reason"] = _one_face_reason(tally, params)
        if r["reason"] is not None:
            continue
        if not tally.done:  # a window that ended early (a video shorter than its probe)
            _settle(tally, params, face_embed, pool, timings)
        t_id = time.perf_counter()
        vectors = [c.vector(face_embed) for c in tally.embeddings]
        timings["identity_s"] += time.perf_counter() - t_id
        agreeing, _ = identity_agreement(vectors, params.identity_threshold)
        r["identity_faces"], r["identity_agreeing"] = len(vectors), agreeing
        r["face_distance"] = max_pairwise_distance(vectors)
        if params.face_rule == "main" and agreeing < IDENTITY_SHARE * len(vectors):
            r["reason"] = (
                f"faces of more than one person (at most {agreeing} of the {len(vectors)} "
                f"faces compared within collect.identity_threshold "
                f"{params.identity_threshold:g} of one of them; three quarters needed)"
            )
            continue
        if params.face_rule == "one" and r["face_distance"] > params.identity_threshold:
            r["reason"] = (
                f"faces of more than one person (identity distance {r['face_distance']:.3f} > "
                f"collect.identity_threshold {params.identity_threshold:g})"
            )
            continue
        r["kept"] = True
        if identities is not None:
            identities[r["name"]] = turn_identity(vectors, params.identity_threshold)
    embedded = {id(c) for t in tallies.values() for c in t.embeddings if c._vector is not None}
    timings["identity_faces"] = len(embedded)
