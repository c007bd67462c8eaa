"""Stable assignment of clips to shards, so that jobs are per shard and never per clip."""

from __future__ import annotations

import hashlib


def shard_width(n_shards: int) -> int:
    """Digits used to name shards: ``000`` .. ``255`` for 256 shards (at least three)."""
    if n_shards < 1:
        raise ValueError(f"shards must be >= 1, got {n_shards}")
    return max(3, len(str(n_shards - 1)))


def shard_ids(n_shards: int) -> list[str]:
    """All shard ids, zero-padded strings, in order."""
    width = shard_width(n_shards)
    return [f"{i:0{width}d}" for i in range(n_shards)]


def shard_of(name: str, n_shards: int) -> str:
    """Shard id of a clip: a stable hash of its name (independent of Python's hash seed)."""
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    index = int.from_bytes(digest[:8], "big") % n_shards
    return f"{index:0{shard_width(n_shards)}d}"
