"""Speaker turns of a whole video, with no dataset filter (rule ``segment_apply_video``).

The collection stage's own steps, through their public functions: Silero VAD and turn
assembly (:func:`merlib.collect.turns.cut_segments`, which also splits turns longer than
``collect.max_duration``), then its one-face and one-identity checks
(:func:`merlib.collect.filtering.filter_segments`) with the duration bounds lifted. What
would drop a turn from a dataset (no usable face, two people, too short) becomes the
turn's ``note``; every speech turn stays. Speakers are voice clusters within the video:
Resemblyzer embeddings of the turns, joined by average-linkage agglomerative clustering
while their cosine similarity is at least ``speaker_similarity``; ids ``S1``, ``S2``...
in order of first appearance. Face tracks are face clusters within the video: the mean
dlib identity of each turn that holds one face of one person (the faces its identity
check already compared), joined by the same clustering while their Euclidean distance is
below ``face_distance``; ids ``F1``, ``F2``... A turn whose face track is not its voice's
usual one says so in its note. A video that cannot be segmented at all (no audio track,
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


def cluster_turns(vectors: np.ndarray, metric: str, max_distance: float, prefix: str) -> list[str]:
    """Cluster ids (``prefix`` + 1, 2... by first appearance) of the rows of ``vectors`` (one
    embedding per turn): average-linkage agglomerative clusters, two groups joined while
    their average ``metric`` distance is below ``max_distance``."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None, metric=metric, linkage="average", distance_threshold=max_distance
        ).fit_predict(np.asarray(vectors, dtype=np.float64))
    order: dict[int, str] = {}
    for label in labels:
        order.setdefault(int(label), f"{prefix}{len(order) + 1}")
    return [order[int(label)] for label in labels]


def cluster_speakers(voices: np.ndarray, min_similarity: float) -> list[str]:
    """Speaker ids (``S1``... by first appearance) of the rows of ``voices`` (one voice
    embedding per turn): average-linkage clusters of cosine similarity >= ``min_similarity``."""
    return cluster_turns(voices, "cosine", 1.0 - float(min_similarity), "S")


def cluster_faces(faces: list[np.ndarray | None], max_distance: float) -> list[str | None]:
    """Face track ids (``F1``... by first appearance) of turns' face identities (None for a
    turn without one face of one person: no track): average-linkage clusters of Euclidean
    distance below ``max_distance``."""
    with_face = [i for i, f in enumerate(faces) if f is not None]
    vectors = np.stack([faces[i] for i in with_face]) if with_face else np.zeros((0, 1))
    tracks: list[str | None] = [None] * len(faces)
    for i, track in zip(
        with_face, cluster_turns(vectors, "euclidean", max_distance, "F"), strict=True
    ):
        tracks[i] = track
    return tracks


def face_voice_notes(speakers: list, tracks: list) -> list[str | None]:
    """Where voice and face disagree: a turn whose face track is not its speaker's usual
    one (the track shown in more than half of the speaker's turns with a face) is noted:
    the face on screen may be a listener's, or one person split in two by voice or face."""
    shown: dict[str, list[str]] = {}
    for speaker, track in zip(speakers, tracks, strict=True):
        if speaker is not None and track is not None:
            shown.setdefault(speaker, []).append(track)
    usual = {}
    for speaker, seen in shown.items():
        track = max(seen, key=seen.count)
        if 2 * seen.count(track) > len(seen):
            usual[speaker] = track
    return [
        f"face {track} is not voice {speaker}'s usual face {usual[speaker]}"
        if track is not None and usual.get(speaker, track) != track
        else None
        for speaker, track in zip(speakers, tracks, strict=True)
    ]


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
    *,
    face_distance: float,
) -> pa.Table:
    """Every speech turn of ``video_path`` (:data:`APPLY_TURNS`), in time order; never
    raises on bad media (the whole video becomes one row with the reason). ``video_id``
    (default: the file's safe stem) fills the ``video`` column; ``face_distance`` is the
    face tracks' clustering threshold (:func:`cluster_faces`)."""
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
    identities: dict[str, np.ndarray] = {}  # the faces the identity check compared
    decisions, timings = filter_segments(
        video_path, segments, unbounded, face_embed, workers, identities
    )
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
    tracks = cluster_faces([identities.get(r["name"]) for r in rows], face_distance)
    disagree = face_voice_notes(speakers, tracks)
    out = []
    for r, speaker, track, other in zip(rows, speakers, tracks, disagree, strict=True):
        # the collection's reason for not keeping a turn is this turn's note; a turn whose
        # frames hold one face of one person has a face track, linked across the video's
        # turns by identity
        out.append(
            _row(
                vid,
                video_path.name,
                r["name"],
                r["start"],
                r["end"],
                usable=True,
                note=r["reason"] or other,
                speaker=speaker,
                face_track=track,
                one_face_fraction=r["one_face_fraction"],
            )
        )
    return table_from_rows(out, APPLY_TURNS)
