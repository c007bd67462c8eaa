"""A video's turn clips in consecutive time windows (rule ``export_apply_clips``): the
shards of the per-clip jobs of ``apply``.

A turn belongs to the window holding its start: window ``k`` is
``[k * window_s, (k + 1) * window_s)``, so a turn starting exactly on a boundary is in the
later window. Within a window, ``apply.shards`` hash parts (:func:`merlib.shards.shard_index`
of the turn's name). Shard ids: ``w0003`` (the fourth window, one part per window) or
``w0003-1`` (its second part). Only shards holding a clip are listed; a video with no clip
at all has the one (empty) shard of window 0, so that every video has its jobs. Each
listed shard carries the line its jobs log (``window 4/12, 00:30:00-00:40:00, 41 turns``).
"""

from __future__ import annotations

import json
import math
import os

from ..shards import shard_index

WINDOW_DIGITS = 4


def window_of(start: float, window_s: float) -> int:
    """Index of the window holding time ``start`` (seconds; before 0 is window 0)."""
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    return max(0, math.floor(float(start) / float(window_s)))


def window_count(duration: float | None, window_s: float) -> int:
    """Windows covering ``duration`` seconds (at least one)."""
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    return max(1, math.ceil(float(duration or 0.0) / float(window_s)))


def shard_id(window: int, part: int | None = None) -> str:
    """``w0003``, or ``w0003-1`` for a part of a window cut into several."""
    base = f"w{window:0{WINDOW_DIGITS}d}"
    return base if part is None else f"{base}-{part}"


def window_shard(start: float, name: str, window_s: float, n_shards: int) -> str:
    """Shard id of a turn clip: its start's window, and with ``n_shards`` > 1 the hash part
    of its name within the window."""
    if n_shards < 1:
        raise ValueError(f"shards must be >= 1, got {n_shards}")
    part = None if n_shards == 1 else shard_index(name, n_shards)
    return shard_id(window_of(start, window_s), part)


def clock(seconds: float) -> str:
    """``01:02:03``."""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def window_shards(
    clips: list[tuple[str, float]], duration: float | None, window_s: float, n_shards: int
) -> dict:
    """The shard list of one video: ``clips`` its (name, start) of every cut clip,
    ``duration`` the video's (None: the last clip's start). JSON-ready: ``window_s``,
    ``shards_per_window``, ``windows``, ``duration`` and ``shards`` (per listed shard, in
    time order: ``shard``, ``window``, ``part``, ``start``, ``end``, ``clips``,
    ``progress``)."""
    starts = [float(s) for _, s in clips]
    duration = max([float(duration or 0.0), *starts])
    n_windows = window_count(duration, window_s)
    counts: dict[tuple[int, int | None], int] = {}
    for name, start in clips:
        part = None if n_shards == 1 else shard_index(name, n_shards)
        key = (window_of(start, window_s), part)
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        counts[(0, None if n_shards == 1 else 0)] = 0
    n_windows = max(n_windows, max(w for w, _ in counts) + 1)
    shards = []
    for (window, part), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        start = window * window_s
        end = min((window + 1) * window_s, max(duration, start))
        where = f"window {window + 1}/{n_windows}, {clock(start)}-{clock(end)}"
        if part is not None:
            where += f", part {part + 1}/{n_shards}"
        shards.append(
            {
                "shard": shard_id(window, part),
                "window": window,
                "part": part,
                "start": float(start),
                "end": float(end),
                "clips": n,
                "progress": f"{where}, {n} turns",
            }
        )
    return {
        "window_s": float(window_s),
        "shards_per_window": int(n_shards),
        "windows": n_windows,
        "duration": duration,
        "shards": shards,
    }


def write_shards(listing: dict, path: str | os.PathLike) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(listing, f, indent=1)
        f.write("\n")


def read_shards(path: str | os.PathLike) -> dict:
    """A shard list written by :func:`write_shards`; an unreadable one is an error naming
    the file."""
    try:
        with open(path, encoding="utf-8") as f:
            listing = json.load(f)
        [s["shard"] for s in listing["shards"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a shard list of export_apply_clips ({exc})") from exc
    return listing


def window_digests(turns_path: str | os.PathLike, manifest_path: str | os.PathLike) -> dict:
    """Shard id -> SHA-1 of its clips (name, clip path, turn start and end; sorted by name):
    what a per-shard job of ``apply`` reads. A rewritten manifest (a new segmentation, a
    changed turn in another window) reruns only the windows whose clips changed."""
    import hashlib

    import pyarrow.parquet as pq

    turns = pq.read_table(turns_path, columns=["name", "start", "end"]).to_pylist()
    spans = {r["name"]: (r["start"], r["end"]) for r in turns}
    clips: dict[str, list[tuple]] = {}
    for r in pq.read_table(manifest_path, columns=["shard", "name", "path"]).to_pylist():
        clips.setdefault(r["shard"], []).append((r["name"], r["path"], *spans.get(r["name"], ())))
    return {
        shard: hashlib.sha1(repr(sorted(rows)).encode("utf-8")).hexdigest()
        for shard, rows in clips.items()
    }
