"""Speaker turns of a whole video, with no dataset filter (rule ``segment_apply_video``).

The collection stage's own steps, through their public functions: Silero VAD and turn
assembly (:func:`merlib.collect.turns.cut_segments`, which also splits turns longer than
``collect.max_duration``), then its one-face and one-identity checks
(:func:`merlib.collect.filtering.filter_segments`) with the duration bounds lifted. What
would drop a turn from a dataset (no usable face, two people, too short) becomes the
turn's ``note``; every speech turn stays. Speakers are voice clusters within the video:
Resemblyzer embeddings of the turns, joined by average-linkage agglomerative clustering
while their cosine similarity is at least ``speaker_similarity``; ids ``S1``, ``S2``...
in order of first appearance. A video that cannot be segmented at all (no audio track,
no speech, unreadable) is one row over the whole video, not usable, with the reason.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..av.decode import decode_audio
from ..av.probe import probe_video
from ..collect.filtering import filter_segments
from ..collect.params import CollectParams
from ..collect.sources import clip_stem
from ..collect.turns import Embedder, cut_segments, resemblyzer_embedder
from ..errors import AudioLoadingError, VideoLoadingError
from ..schemas import APPLY_TURNS, table_from_rows

log = logging.getLogger(__name__)


def cluster_speakers(voices: np.ndarray, min_similarity: float) -> list[str]:
    """Speaker ids (``S1``... by first appearance) of the rows of ``voices`` (one voice
    embedding per turn): average-linkage clusters of cosine similarity >= ``min_similarity``."""
    n = len(voices)
    if n == 0:
        return []
    if n == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=1.0 - float(min_similarity),
        ).fit_predict(np.asarray(voices, dtype=np.float64))
    order: dict[int, str] = {}
    for label in labels:
        order.setdefault(int(label), f"S{len(order) + 1}")
    return [order[int(label)] for label in labels]


def _whole_video_row(video_path: Path, vid: str, reason: str, timeout: float) -> dict:
    try:
        duration = probe_video(video_path, timeout=timeout).duration or 0.0
    except (VideoLoadingError, subprocess.TimeoutExpired):
        duration = 0.0
    return _row(vid, video_path.name, vid, 0.0, duration, usable=False, note=reason)


def _row(vid, video, name, start, end, usable, note=None, **extra) -> dict:
    return {
        "name": name,
        "video": vid,
        "file": video,
        "start": float(start),
        "end": float(end),
        "speaker": extra.get("speaker"),
        "face_track": extra.get("face_track"),
        "one_face_fraction": extra.get("one_face_fraction"),
        "usable": bool(usable),
        "note": note,
    }


def segment_video(
    video_path: str | os.PathLike,
    params: CollectParams,
    speaker_similarity: float,
    embed: Embedder | None = None,
    face_embed=None,
    workers: int = 1,
    video_id: str | None = None,
) -> pa.Table:
    """Every speech turn of ``video_path`` (:data:`APPLY_TURNS`), in time order; never
    raises on bad media (the whole video becomes one row with the reason). ``video_id``
    (default: the file's safe stem) fills the ``video`` column."""
    video_path = Path(video_path)
    vid = video_id or clip_stem(video_path.stem)
    embed = embed or resemblyzer_embedder()
    segments = cut_segments(video_path, params, None, embed, face_embed)
    bad = [r for r in segments.to_pylist() if r["reason"] is not None]
    if bad:  # cut_segments gives one row with the reason for a video it cannot use
        log.info("%s: %s", video_path, bad[0]["reason"])
        return table_from_rows(
            [_whole_video_row(video_path, vid, bad[0]["reason"], params.timeout)], APPLY_TURNS
        )
    unbounded = dataclasses.replace(params, min_duration=0.0, max_duration=float("inf"))
    decisions, timings = filter_segments(video_path, segments, unbounded, face_embed, workers)
    log.info("%s: %d turns, face checks %s", video_path, decisions.num_rows, timings)
    try:
        pcm = decode_audio(video_path, params.sample_rate, params.timeout, from_zero=True)
    except (AudioLoadingError, subprocess.TimeoutExpired) as exc:  # cut_segments decoded it
        raise AudioLoadingError(f"{video_path}: audio no longer decodes ({exc})") from exc
    rows = sorted(decisions.to_pylist(), key=lambda r: r["start"])
    sr = params.sample_rate
    voices = [
        embed(
            pcm[int(r["start"] * sr) : max(int(r["end"] * sr), int(r["start"] * sr) + 1)] / 32768.0
        )
        for r in rows
    ]
    speakers = cluster_speakers(
        np.stack(voices) if voices else np.zeros((0, 1)), speaker_similarity
    )
    out = []
    for r, speaker in zip(rows, speakers, strict=True):
        # the collection's reason for not keeping a turn is this turn's note; a turn whose
        # frames hold one face of one person has a face track (the turn's own)
        out.append(
            _row(
                vid,
                video_path.name,
                r["name"],
                r["start"],
                r["end"],
                usable=True,
                note=r["reason"],
                speaker=speaker,
                face_track=f"{r['name']}_face" if r["kept"] else None,
                one_face_fraction=r["one_face_fraction"],
            )
        )
    return table_from_rows(out, APPLY_TURNS)
