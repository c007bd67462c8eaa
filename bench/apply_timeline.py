"""Applying a trained model to real long-ish videos: time per minute of video by step,
speech coverage by turns, and agreement with the release path.

    .venv/bin/python bench/apply_timeline.py WORKDIR CONFIG [--cores 2]

WORKDIR is a merflow working directory whose model is trained (results/fusion/model.pt and
model_card.json, e.g. one made by tests/e2e/test_apply_workflow.py's config on a small
release); CONFIG its overlay. Built here from ../shared/data only, into WORKDIR/bench-videos:
``long_grid_cremad`` (the GRID four-speaker video five times, then CREMA-D's six emotions
joined, twice: four GRID people and one CREMA-D actor); the model is applied to it with
``snakemake apply`` on ``--cores`` cores, then every rule's benchmark wall time is
printed, in seconds per minute of video. Coverage: the share of the speech (Silero VAD of
each source piece, placed at its offset) inside some turn.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

from apply_footage import coverage, cremad_joined, ffmpeg, speech_spans
from e2e_helpers import config_args, overlay, snakemake

from merlib.av.probe import probe_video

SHARED = REPO.parent / "shared" / "data"
VIDEO = "long_grid_cremad"


def build_video(out_dir: Path) -> tuple[Path, list[tuple]]:
    """The long video and its speech spans (seconds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    grid = out_dir / "grid.mp4"
    ffmpeg(
        "-i", str(SHARED / "video/grid-cuts/grid_4speakers_cuts.mp4"), "-vf",
        "scale=480:360,fps=25,setsar=1", "-ar", "16000", "-ac", "1", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", "-c:a", "aac", str(grid),
    )  # fmt: skip
    cremad, _ = cremad_joined(SHARED, out_dir / "cremad.mp4")
    pieces = [grid] * 5 + [cremad] * 2
    listing = out_dir / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in pieces))
    videos = out_dir / "videos"
    videos.mkdir(exist_ok=True)
    video = videos / f"{VIDEO}.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(video))
    spans, t = [], 0.0
    for piece in pieces:
        spans += speech_spans(piece, offset=t)
        t += float(probe_video(piece).duration)
    return video, spans


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("config", type=Path)
    ap.add_argument("--cores", default="2")
    args = ap.parse_args()
    work = args.workdir.resolve()
    video, spans = build_video(work / "bench-videos")
    minutes = float(probe_video(video).duration) / 60
    config = overlay("apply", work / "bench-apply.yaml", apply={"videos_dir": str(video.parent)})
    base = yaml_config(args.config)
    for key in ("data_root", "evaluate"):
        if key in base:
            overlay_key(config, key, base[key])
    wall = time.perf_counter()
    proc = snakemake(work, *config_args(config), "--cores", args.cores, "apply")
    wall = time.perf_counter() - wall
    if proc.returncode != 0:
        sys.exit(proc.stderr[-4000:])
    print(
        f"video {video.name}: {minutes:.2f} min, snakemake apply {wall:.1f} s on {args.cores} cores"
    )
    # wall s and CPU s (Snakemake's benchmark columns s, cpu_time): CPU time is the figure
    # that holds on a shared machine; wall time only on a quiet one
    print(f"  {'step':24s} {'wall s':>7s} {'CPU s':>7s}  per minute of video: wall, CPU")
    total = [0.0, 0.0]
    for rule in ("segment_apply_video", "export_apply_clips", "extract_apply_media",
                 "transcribe_apply_clips", "extract_apply_features", "predict_apply_turns",
                 "render_apply_timeline"):  # fmt: skip
        rows = [
            next(csv.DictReader(open(p), delimiter="\t"))
            for p in (work / "benchmarks" / rule).rglob("*.tsv")
            if VIDEO in str(p)
        ]
        wall_s = sum(float(r["s"]) for r in rows)
        cpu_s = sum(float(r["cpu_time"]) for r in rows)
        total = [total[0] + wall_s, total[1] + cpu_s]
        per_minute = f"{wall_s / minutes:7.1f} {cpu_s / minutes:7.1f}"
        print(f"  {rule:24s} {wall_s:7.1f} {cpu_s:7.1f}  {per_minute}")
    print(
        f"  {'all steps (sequential)':24s} {total[0]:7.1f} {total[1]:7.1f}  "
        f"{total[0] / minutes:7.1f} {total[1] / minutes:7.1f}"
    )
    import pyarrow.parquet as pq

    rows = pq.read_table(work / "results/apply" / VIDEO / "timeline.parquet").to_pylist()
    turns = [(r["start"], r["end"]) for r in rows]
    print(f"turns {len(rows)}, predicted {sum(r['label'] is not None for r in rows)}, "
          f"speakers {len({r['speaker'] for r in rows})}, "
          f"speech covered {coverage(spans, turns):.3f} ({len(spans)} VAD spans)")  # fmt: skip


def yaml_config(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text()) or {}


def overlay_key(path: Path, key: str, value) -> None:
    import yaml

    config = yaml.safe_load(path.read_text())
    config[key] = value
    path.write_text(yaml.safe_dump(config, allow_unicode=True))


if __name__ == "__main__":
    main()
