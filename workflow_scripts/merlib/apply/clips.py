"""Turns as clips (rule ``export_apply_clips``): every usable turn cut to an mp4 by the
collection's exporter (:func:`merlib.collect.export.export_clips`) into a MER2024-layout
folder, and the manifest of those clips (:data:`merlib.schemas.MANIFEST`, split
``unlabeled``, sharded by time window: :mod:`merlib.apply.windows`) that merflow's
per-clip media, transcript, feature and prediction functions read, exactly as they read a
release's unlabelled pool."""

from __future__ import annotations

import os

import pyarrow as pa

from ..collect.export import export_clips
from ..schemas import APPLY_TURNS, COLLECT_CLIPS, MANIFEST, table_from_rows
from .windows import window_shard


def export_turns(
    video_path: str | os.PathLike,
    turns: pa.Table,
    clips_root: str | os.PathLike,
    n_shards: int,
    timeout: float = 3600,
    workers: int = 1,
    window_s: float = 600.0,
) -> tuple[pa.Table, pa.Table]:
    """(turns, manifest): the usable turns cut under ``clips_root``; a turn whose cut
    fails is no longer usable and its note says why. The manifest holds the cut clips,
    each in the shard of its start's window of ``window_s`` seconds (and of its name's
    hash part of ``n_shards`` within it)."""
    rows = turns.to_pylist()
    decisions = [
        {
            "name": r["name"],
            "video": r["video"],
            "source": "vad",
            "start": r["start"],
            "end": r["end"],
            "text": None,
            "kept": r["usable"],
            "reason": None if r["usable"] else (r["note"] or "not usable"),
            "frames": None,
            "one_face_fraction": r["one_face_fraction"],
            "face_distance": None,
            "clip": None,
        }
        for r in rows
    ]
    exported = export_clips(
        video_path, table_from_rows(decisions, COLLECT_CLIPS), clips_root, timeout, None, workers
    )
    by_name = {r["name"]: r for r in exported.to_pylist()}
    manifest = []
    for r in rows:
        done = by_name[r["name"]]
        if r["usable"] and not done["kept"]:
            r["usable"] = False
            r["note"] = "; ".join(n for n in (r["note"], done["reason"]) if n)
        if r["usable"]:
            manifest.append(
                {
                    "name": r["name"],
                    "split": "unlabeled",
                    "path": done["clip"],
                    "discrete": None,
                    "transcription": None,
                    "shard": window_shard(r["start"], r["name"], window_s, n_shards),
                }
            )
    return table_from_rows(rows, APPLY_TURNS), table_from_rows(manifest, MANIFEST)
