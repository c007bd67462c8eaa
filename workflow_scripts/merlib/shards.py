"""Stable assignment of clips to shards, so that jobs are per shard and never per clip."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyarrow is imported where it is used: the Snakefile imports this module
    import pyarrow as pa

# What each per-shard stage reads of the manifest beside the name: its jobs carry a digest
# of exactly these columns (shard_digests), and read exactly these (shard_clips), so a
# column a stage starts to read is part of what reruns it. Feature jobs read their text
# from the transcripts (clean clips), so the manifest gives them the names only.
SHARD_COLUMNS = {
    "media": ("path",),
    "transcribe": ("split", "transcription"),
    "features": (),
}


def shard_width(n_shards: int) -> int:
    """Digits used to name shards: ``000`` .. ``255`` for 256 shards (at least three)."""
    if n_shards < 1:
        raise ValueError(f"shards must be >= 1, got {n_shards}")
    return max(3, len(str(n_shards - 1)))


def shard_ids(n_shards: int) -> list[str]:
    """All shard ids, zero-padded strings, in order."""
    width = shard_width(n_shards)
    return [f"{i:0{width}d}" for i in range(n_shards)]


def shard_index(name: str, n_shards: int) -> int:
    """Index (0 .. n_shards - 1) of a clip's shard: a stable hash of its name (independent
    of Python's hash seed)."""
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n_shards


def shard_of(name: str, n_shards: int) -> str:
    """Shard id of a clip: :func:`shard_index`, zero-padded (:func:`shard_width`)."""
    return f"{shard_index(name, n_shards):0{shard_width(n_shards)}d}"


def shard_digests(manifest_path: str, columns: tuple[str, ...]) -> dict[str, str]:
    """Shard id -> a SHA-1 of the ``columns`` of its clips in the manifest (rows sorted by
    name): what a per-shard job reads of the manifest. A job whose digest did not change
    need not rerun when the manifest is rewritten (e.g. for a corrected label)."""
    import pyarrow.parquet as pq

    table = pq.read_table(manifest_path, columns=["shard", "name", *columns])
    rows: dict[str, list[tuple]] = {}
    for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
        rows.setdefault(row[0], []).append(row[1:])
    return {
        shard: hashlib.sha1(repr(sorted(clips)).encode("utf-8")).hexdigest()
        for shard, clips in rows.items()
    }


def shard_clips(manifest: pa.Table, shard: str, stage: str) -> pa.Table:
    """The manifest's clips of ``shard``: ``name`` and the columns ``stage`` reads
    (:data:`SHARD_COLUMNS`), the columns its jobs' digests cover."""
    import pyarrow.compute as pc

    clips = manifest.filter(pc.equal(manifest["shard"], shard))
    return clips.select(["name", *SHARD_COLUMNS[stage]])


def shard_groups(shards: list[str], per_job: int) -> list[list[str]]:
    """``shards`` cut into runs of ``per_job`` consecutive shards (the last may be
    shorter): the shards of each extraction job that loads its model once for several."""
    if isinstance(per_job, bool) or not isinstance(per_job, int) or per_job < 1:
        raise ValueError(f"shards per job must be an integer >= 1, got {per_job!r}")
    return [list(shards[i : i + per_job]) for i in range(0, len(shards), per_job)]
