"""Apply's segmentation alone on long videos: peak memory and CPU of ``segment_video`` in
one process per length, on real footage looped to each length.

    .venv/bin/python bench/segment_memory.py WORKDIR [--minutes 3 12 60] [--workers 1]

The footage is bench/apply_long_video.py's (bench/apply_timeline.py's 1.43-minute video
from ../shared/data, looped with ``-c copy``). Each length runs in a fresh Python process
(max RSS is a process's lifetime peak) with the config's collection settings
(:class:`CollectParams` defaults) and ``apply``'s speaker similarity and face distance.
Prints per length: turns, max RSS (MB, the process itself; ffmpeg children apart), CPU
seconds of the process and of its children, CPU s per minute of video, and a digest of
the turns table (two code versions that cut the same turns print the same digest).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))


def measure(video: str, similarity: float, distance: float, workers: int) -> None:
    """One length, in its own process (``--one``): one line of figures."""
    import hashlib
    import resource
    import time

    from merlib.apply.segmentation import segment_video
    from merlib.collect.params import CollectParams
    from merlib.threads import limit_threads

    limit_threads(1)
    t = time.process_time()
    turns = segment_video(
        video, CollectParams(), similarity, workers=workers, face_distance=distance
    )
    cpu = time.process_time() - t
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    digest = hashlib.sha1(str(turns.to_pylist()).encode()).hexdigest()[:12]
    print(
        turns.num_rows, round(rss), round(cpu, 1), round(kids.ru_utime + kids.ru_stime, 1), digest
    )


def main() -> None:
    import yaml

    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--minutes", type=float, nargs="+", default=[3.0, 12.0, 60.0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # a video: measured in this process
    args = ap.parse_args()
    apply = yaml.safe_load((REPO / "config.yaml").read_text())["apply"]
    similarity, distance = apply["speaker_similarity"], apply["face_distance"]
    if args.one:
        return measure(args.one, similarity, distance, args.workers)
    # the footage's helpers only here: the measured process imports no more than it needs
    from apply_long_video import looped
    from apply_timeline import build_video

    from merlib.av.probe import probe_video

    work = args.workdir.resolve()
    base = build_video(work / "bench-pieces")[0]
    print(f"{'min':>6s} {'turns':>6s} {'max RSS MB':>10s} {'CPU s':>7s} {'children':>8s} "
          f"{'CPU s/min':>9s}  turns digest")  # fmt: skip
    for minutes in args.minutes:
        video = looped(base, minutes, work / (f"loop_{minutes:g}min".replace(".", "_") + ".mp4"))
        length = float(probe_video(video).duration) / 60
        cmd = [sys.executable, __file__, str(work), "--one", str(video)]
        proc = subprocess.run(
            [*cmd, "--workers", str(args.workers)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            sys.exit(proc.stderr[-4000:])
        turns, rss, cpu, kids, digest = proc.stdout.split()[-5:]
        per_min = (float(cpu) + float(kids)) / length
        print(f"{length:6.2f} {turns:>6s} {rss:>10s} {cpu:>7s} {kids:>8s} {per_min:9.1f}  {digest}")


if __name__ == "__main__":
    main()
