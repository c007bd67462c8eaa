"""Long videos through `snakemake apply`: peak memory (RSS) of every apply rule and CPU
seconds per minute of video, on real footage looped to increasing lengths.

    .venv/bin/python bench/apply_long_video.py WORKDIR MODEL_DIR [--minutes 3 6 12]
        [--window-s 180] [--cores 2]

MODEL_DIR is a merflow results folder with fusion/model.pt and fusion/model_card.json
(e.g. the one tests/e2e/test_apply_workflow.py trains: run it with
``--basetemp=/tmp/e2e`` and pass /tmp/e2e/apply0/results). The footage is
bench/apply_timeline.py's 1.43-minute video made from ../shared/data only (the GRID
four-speaker cuts video five times, then CREMA-D's actor in six emotions, twice), looped
to each length (``-c copy``, cut at the length). Every video is applied in WORKDIR with
``apply.window_s`` (default 180 s here, so the lengths span 1 to 4 windows), then each
rule's Snakemake benchmark is read: ``max_rss`` and ``max_pss`` (MB; the largest of a
rule's per-shard jobs) and ``cpu_time`` (summed over its jobs), per video. ``--no-run``
prints the table of the last run again.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from apply_footage import ffmpeg
from apply_timeline import build_video
from e2e_helpers import config_args, overlay, snakemake

from merlib.apply.windows import read_shards
from merlib.av.probe import probe_video

RULES = (
    "segment_apply_video",
    "export_apply_clips",
    "extract_apply_media",
    "transcribe_apply_clips",
    "extract_apply_features",
    "predict_apply_turns",
    "render_apply_timeline",
)


def looped(base: Path, minutes: float, out: Path) -> Path:
    """``base`` repeated (stream copy) and cut at ``minutes``."""
    seconds = minutes * 60
    repeats = math.ceil(seconds / float(probe_video(base).duration))
    listing = out.with_suffix(".txt")
    listing.write_text(f"file '{base}'\n" * repeats)
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-t", f"{seconds:.3f}",
           "-c", "copy", str(out))  # fmt: skip
    listing.unlink()
    return out


def benchmarks(work: Path, rule: str, video: str) -> list[dict]:
    folder = work / "benchmarks" / rule
    paths = [folder / f"{video}.tsv", *sorted((folder / video).rglob("*.tsv"))]
    return [next(csv.DictReader(open(p), delimiter="\t")) for p in paths if p.is_file()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--minutes", type=float, nargs="+", default=[3.0, 6.0, 12.0])
    ap.add_argument("--window-s", type=float, default=180.0)
    ap.add_argument("--cores", default="2")
    ap.add_argument("--no-run", action="store_true", help="only print the last run's table")
    args = ap.parse_args()
    work = args.workdir.resolve()
    videos_dir = work / "long-videos"
    videos_dir.mkdir(parents=True, exist_ok=True)
    base = None if args.no_run else build_video(work / "bench-pieces")[0]
    lengths = {}
    for minutes in args.minutes:
        video = videos_dir / (f"long_{minutes:g}min".replace(".", "_") + ".mp4")
        if base is not None:
            looped(base, minutes, video)
        lengths[video.stem] = float(probe_video(video).duration) / 60
    config = overlay(
        "apply",
        work / "bench-long.yaml",
        apply={
            "videos_dir": str(videos_dir),
            "model_dir": str(args.model_dir.resolve()),
            "window_s": args.window_s,
        },
    )
    if not args.no_run:
        wall = time.perf_counter()
        proc = snakemake(work, *config_args(config), "--cores", args.cores, "apply", timeout=3600)
        wall = time.perf_counter() - wall
        if proc.returncode != 0:
            sys.exit(proc.stderr[-4000:])
        print(f"snakemake apply: {len(lengths)} videos, {wall:.0f} s on {args.cores} cores, "
              f"window_s {args.window_s:g}")  # fmt: skip
    # max_rss sums the RSS of a job's processes (its workers and ffmpeg share pages, counted
    # in each); max_pss shares them out, so it is the job's own footprint
    for column in ("max_rss", "max_pss"):
        print(f"{column} (MB; per-shard rules: their largest job), CPU s per minute of video")
        head = "".join(f" {r.replace('_apply', '').replace('_video', '')[:9]:>9s}" for r in RULES)
        print(f"{'video':>11s} {'min':>5s} {'windows':>7s}{head} {'CPU s/min':>9s}")
        for video, minutes in sorted(lengths.items(), key=lambda kv: kv[1]):
            cells, cpu = [], 0.0
            for rule in RULES:
                rows = benchmarks(work, rule, video)
                cells.append(max((float(r[column]) for r in rows), default=float("nan")))
                cpu += sum(float(r["cpu_time"]) for r in rows)
            shards = read_shards(work / "results/apply" / video / "clips/shards.json")
            windows = f"{len(shards['shards'])}/{shards['windows']}"  # with a turn / all
            row = "".join(f" {c:9.0f}" for c in cells)
            print(f"{video:>11s} {minutes:5.2f} {windows:>7s}{row} {cpu / minutes:9.1f}")


if __name__ == "__main__":
    main()
