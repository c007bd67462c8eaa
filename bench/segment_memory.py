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

# run in the child: one length, one line of figures
CHILD = """
import hashlib, resource, sys, time
sys.path.insert(0, {scripts!r})
from merlib.threads import limit_threads
limit_threads(1)
from merlib.apply.segmentation import segment_video
from merlib.collect.params import CollectParams
t = time.process_time()
turns = segment_video({video!r}, CollectParams(), {similarity!r}, workers={workers},
                      face_distance={distance!r})
cpu = time.process_time() - t
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
digest = hashlib.sha1(str(turns.to_pylist()).encode()).hexdigest()[:12]
print(turns.num_rows, round(rss), round(cpu, 1), round(kids.ru_utime + kids.ru_stime, 1), digest)
"""


def main() -> None:
    import yaml
    from apply_long_video import looped
    from apply_timeline import build_video

    from merlib.av.probe import probe_video

    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--minutes", type=float, nargs="+", default=[3.0, 12.0, 60.0])
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    work = args.workdir.resolve()
    apply = yaml.safe_load((REPO / "config.yaml").read_text())["apply"]
    base = build_video(work / "bench-pieces")[0]
    print(f"{'min':>6s} {'turns':>6s} {'max RSS MB':>10s} {'CPU s':>7s} {'children':>8s} "
          f"{'CPU s/min':>9s}  turns digest")  # fmt: skip
    for minutes in args.minutes:
        video = looped(base, minutes, work / (f"loop_{minutes:g}min".replace(".", "_") + ".mp4"))
        length = float(probe_video(video).duration) / 60
        code = CHILD.format(
            scripts=str(REPO / "workflow_scripts"),
            video=str(video),
            similarity=apply["speaker_similarity"],
            distance=apply["face_distance"],
            workers=args.workers,
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(proc.stderr[-4000:])
        turns, rss, cpu, kids, digest = proc.stdout.split()[-5:]
        per_min = (float(cpu) + float(kids)) / length
        print(f"{length:6.2f} {turns:>6s} {rss:>10s} {cpu:>7s} {kids:>8s} {per_min:9.1f}  {digest}")


if __name__ == "__main__":
    main()
