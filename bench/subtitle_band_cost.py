"""CPU cost of the burned-in subtitle detector (``collect.subtitle_band``): decoding the
bottom band (ffmpeg, one thread) and finding its changes, per minute of video.

    .venv/bin/python bench/subtitle_band_cost.py VIDEO [VIDEO ...] [fps=5] [fraction=0.2]

Prints, per video and in total, the CPU seconds (this process and its ffmpeg children)
and wall seconds per minute of video, and the changes found.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.av.probe import probe_video
from merlib.collect.band import band_changes


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str]) -> None:
    opts = dict(a.split("=", 1) for a in argv if "=" in a)
    fps, fraction = float(opts.get("fps", 5)), float(opts.get("fraction", 0.2))
    total_cpu = total_wall = total_minutes = 0.0
    for video in (Path(a) for a in argv if "=" not in a):
        minutes = probe_video(video).duration / 60
        cpu, wall = _cpu(), time.perf_counter()
        changes = band_changes(video, fps, fraction)
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        total_cpu += cpu
        total_wall += wall
        total_minutes += minutes
        print(
            f"{video.name}: {minutes * 60:.1f} s, CPU {cpu / minutes:.2f} s/min, "
            f"wall {wall / minutes:.2f} s/min, {len(changes)} changes"
        )
    print(
        f"total {total_minutes * 60:.1f} s of video at {fps:g} fps, bottom {fraction:g}: "
        f"CPU {total_cpu / total_minutes:.2f} s per minute of video, "
        f"wall {total_wall / total_minutes:.2f} s per minute"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
