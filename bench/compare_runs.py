"""Compare two merflow runs stage by stage and print where their outputs first differ.

Usage (from the repository root)::

    .venv/bin/python bench/compare_runs.py RUN_A RUN_B [--all]

RUN_A and RUN_B are working directories of two runs (each with ``results/`` and
``resources/demo``). Files are visited in pipeline order (demo corpus, ingest, media,
transcripts, features, search, fusion, predictions, metrics, ...). Per file one line:
``same`` (bytes or values equal), or what differs: per Parquet column the largest
absolute difference (numbers, embeddings, 16-bit PCM, decoded face crops) or the number
of differing rows (strings, other bytes); per JSON/CSV number the largest difference.
Used to find which stage's output depends on the machine (issue 21, part 8).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Pipeline order: the first differing file of the earliest stage is the one to look at.
STAGES = (
    "resources/demo",
    "results/ingest",
    "results/media",
    "results/transcripts",
    "results/features",
    "results/feature_flags",
    "results/feature_rejects",
    "results/search",
    "results/fusion",
    "results/selftrain",
    "results/predictions",
    "results/submission",
    "results/metrics",
)
SKIP_SUFFIXES = (".log", ".html", ".png", ".svg", ".tsv.bench")
# JSON fields that measure the run, not its result: never compared.
TIMING_KEYS = ("seconds", "time", "created", "elapsed", "wall_s")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _order(rel: str) -> tuple[int, str]:
    for i, stage in enumerate(STAGES):
        if rel.startswith(stage + "/"):
            return i, rel
    return len(STAGES), rel


def _binary_diff(name: str, a: list, b: list) -> str:
    unequal = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if not unequal:
        return ""
    detail = ""
    if name == "pcm":
        diffs = [
            np.abs(
                np.frombuffer(a[i], np.int16).astype(np.int32)
                - np.frombuffer(b[i], np.int16).astype(np.int32)
            ).max()
            for i in unequal
            if len(a[i]) == len(b[i])
        ]
        detail = f", max |pcm diff| {max(diffs) if diffs else 'n/a (lengths differ)'}"
    elif name == "crop":
        import cv2

        diffs = []
        for i in unequal:
            ia = cv2.imdecode(np.frombuffer(a[i], np.uint8), cv2.IMREAD_UNCHANGED)
            ib = cv2.imdecode(np.frombuffer(b[i], np.uint8), cv2.IMREAD_UNCHANGED)
            if ia is not None and ib is not None and ia.shape == ib.shape:
                diffs.append(int(np.abs(ia.astype(int) - ib.astype(int)).max()))
        detail = f", max |pixel diff| {max(diffs) if diffs else 'n/a'}"
    return f"{name}: {len(unequal)}/{len(a)} rows differ{detail}"


def _column_diff(name: str, a: pa.ChunkedArray, b: pa.ChunkedArray) -> str:
    t = a.type
    if pa.types.is_fixed_size_list(t) or pa.types.is_list(t):
        try:
            xa = np.asarray(a.combine_chunks().flatten(), dtype=np.float64)
            xb = np.asarray(b.combine_chunks().flatten(), dtype=np.float64)
        except (pa.ArrowInvalid, TypeError, ValueError):
            return "" if a.equals(b) else f"{name}: differs"
        if xa.shape != xb.shape:
            return f"{name}: lengths differ"
        d = np.nanmax(np.abs(xa - xb)) if xa.size else 0.0
        return f"{name}: max |diff| {d:.3g}" if d > 0 else ""
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        xa = np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.float64)
        xb = np.asarray(b.to_numpy(zero_copy_only=False), dtype=np.float64)
        both_nan = np.isnan(xa) & np.isnan(xb)
        d = np.abs(xa - xb)
        d[both_nan] = 0
        m = np.nanmax(d) if d.size else 0.0
        return f"{name}: max |diff| {m:.3g} ({int((d > 0).sum())} rows)" if m > 0 else ""
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return _binary_diff(name, a.to_pylist(), b.to_pylist())
    la, lb = a.to_pylist(), b.to_pylist()
    n = sum(x != y for x, y in zip(la, lb, strict=True))
    return f"{name}: {n}/{len(la)} rows differ" if n else ""


def compare_parquet(pa_: Path, pb: Path) -> str:
    ta, tb = pq.read_table(pa_), pq.read_table(pb)
    if ta.schema != tb.schema:
        return "schemas differ"
    if ta.num_rows != tb.num_rows:
        return f"rows differ: {ta.num_rows} vs {tb.num_rows}"
    keys = [k for k in ("name", "frame", "fold", "combination") if k in ta.column_names]
    if keys:
        order = [(k, "ascending") for k in keys]
        ta, tb = ta.sort_by(order), tb.sort_by(order)
    parts = [_column_diff(c, ta[c], tb[c]) for c in ta.column_names]
    return "; ".join(p for p in parts if p)


def _leaves(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def compare_json(pa_: Path, pb: Path) -> str:
    la = dict(_leaves(json.loads(pa_.read_text())))
    lb = dict(_leaves(json.loads(pb.read_text())))
    worst, other = (0.0, ""), []
    for key in sorted(set(la) | set(lb)):
        x, y = la.get(key), lb.get(key)
        if key.rsplit(".", 1)[-1].endswith(TIMING_KEYS):
            continue
        if isinstance(x, int | float) and isinstance(y, int | float) and x != y:
            if not (isinstance(x, float) and math.isnan(x) and math.isnan(y)):
                d = abs(float(x) - float(y))
                if d > worst[0]:
                    worst = (d, key)
        elif x != y:
            other.append(key)
    parts = []
    if worst[0] > 0:
        parts.append(f"max |diff| {worst[0]:.3g} at {worst[1]}")
    if other:
        parts.append(f"{len(other)} other fields differ (e.g. {other[0]})")
    return "; ".join(parts)


def compare_table(pa_: Path, pb: Path) -> str:
    import pandas as pd

    sep = "\t" if pa_.suffix == ".tsv" else ","
    da, db = pd.read_csv(pa_, sep=sep), pd.read_csv(pb, sep=sep)
    if da.shape != db.shape or list(da.columns) != list(db.columns):
        return f"shapes differ: {da.shape} vs {db.shape}"
    parts = []
    for c in da.columns:
        numeric = [
            pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c])
            for d in (da, db)
        ]
        if all(numeric):
            d = (da[c] - db[c]).abs().max()
            if d > 0:
                parts.append(f"{c}: max |diff| {d:.3g}")
        else:
            n = int((da[c].astype(str) != db[c].astype(str)).sum())
            if n:
                parts.append(f"{c}: {n}/{len(da)} rows differ")
    return "; ".join(parts)


def compare_file(pa_: Path, pb: Path) -> str:
    """'' when the two files hold the same bytes or values, else what differs."""
    if _digest(pa_) == _digest(pb):
        return ""
    try:
        if pa_.suffix == ".parquet":
            return compare_parquet(pa_, pb) or "bytes differ, values equal"
        if pa_.suffix == ".json":
            return compare_json(pa_, pb)  # '' also when only timings differ
        if pa_.suffix in (".csv", ".tsv"):
            return compare_table(pa_, pb) or "bytes differ, values equal"
    except Exception as exc:  # noqa: BLE001 - a report line, not a failure
        return f"could not compare ({type(exc).__name__}: {exc})"
    return "bytes differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--all", action="store_true", help="also print files that agree")
    args = parser.parse_args()
    rels = set()
    for root in (args.run_a, args.run_b):
        for top in ("results", "resources/demo"):
            base = root / top
            if base.is_dir():
                rels |= {
                    str(p.relative_to(root))
                    for p in base.rglob("*")
                    if p.is_file() and not p.name.endswith(SKIP_SUFFIXES)
                }
    first = None
    n_same = n_diff = 0
    for rel in sorted(rels, key=_order):
        fa, fb = args.run_a / rel, args.run_b / rel
        if not (fa.is_file() and fb.is_file()):
            print(f"ONLY IN {'A' if fa.is_file() else 'B'}  {rel}")
            continue
        verdict = compare_file(fa, fb)
        if verdict:
            n_diff += 1
            first = first or rel
            print(f"DIFF  {rel}: {verdict}")
        else:
            n_same += 1
            if args.all:
                print(f"same  {rel}")
    print(f"\n{n_same} files agree, {n_diff} differ; first differing: {first}")


if __name__ == "__main__":
    main()
