"""Collection throughput: seconds of source video processed per second, and which step
dominates.

    .venv/bin/python bench/collect_throughput.py [videos folder] [threads]

Runs the collection steps of rules/collect.smk on each video of the folder (default: the
demo's raw episodes), one video after the other with ``threads`` threads (default 1: a
collect job's share; the workflow runs one such job per core), and prints, per step, the
wall time and the CPU time (this process plus its ffmpeg children), then source seconds
per wall second overall. Videos with a subtitle file are cut by it, others by VAD; the VAD
steps are also timed on the subtitled ones so that both paths are measured.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib import collect  # noqa: E402
from merlib.media import decode_audio  # noqa: E402


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(folder: Path, threads: int) -> None:
    collect.limit_threads(threads)
    params = collect.CollectParams()
    wall: dict[str, float] = defaultdict(float)
    cpus: dict[str, float] = defaultdict(float)

    def timed(step, fn, *args):
        w, c = time.perf_counter(), cpu()
        out = fn(*args)
        wall[step] += time.perf_counter() - w
        cpus[step] += cpu() - c
        return out

    speaker = timed("load models (once per job)", collect.resemblyzer_embedder)
    face = timed("load models (once per job)", collect.dlib_face_embedder)
    total_source = 0.0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        for video in sorted(folder.glob("*.mp4")):
            probe = timed("probe", collect.probe_video, video)
            total_source += probe.duration
            pcm = timed("decode audio", decode_audio, video, params.sample_rate)
            speech = timed("VAD (Silero)", collect.vad_segments, pcm, params.sample_rate)
            timed(
                "merge (Resemblyzer)",
                collect.merge_turns,
                speech,
                pcm,
                params.sample_rate,
                speaker,
                params.merge_max_gap,
                params.merge_min_similarity,
                params.max_duration,
            )
            subtitle = collect.find_subtitle(video)
            segments = timed(
                "cut (subtitle or VAD table)",
                collect.cut_segments,
                video,
                params,
                subtitle,
                speaker,
            )
            w, c = time.perf_counter(), cpu()
            decisions, t = collect.filter_segments(video, segments, params, face)
            w, c = time.perf_counter() - w, cpu() - c
            share = t["identity_s"] / max(w, 1e-9)
            wall["faces: decode + YuNet"] += w * (1 - share)
            cpus["faces: decode + YuNet"] += c * (1 - share)
            wall["faces: dlib identity"] += w * share
            cpus["faces: dlib identity"] += c * share
            timed("export (cut mp4)", collect.export_clips, video, decisions, out)
    elapsed = time.perf_counter() - start
    print(f"{folder}: {total_source:.1f} s of source video, {threads} thread(s)")
    print("step                              wall s    cpu s")
    for step in wall:
        print(f"{step:32s} {wall[step]:7.2f} {cpus[step]:8.2f}")
    print(
        "note: 'cut' repeats the VAD path on videos without subtitles (counted in its row "
        "and in the VAD rows); the workflow runs it once"
    )
    path = ["load models (once per job)", "cut (subtitle or VAD table)", "export (cut mp4)"]
    path += ["faces: decode + YuNet", "faces: dlib identity"]
    workflow_wall = sum(wall[s] for s in path)
    print(
        f"throughput (the workflow's steps: cut, faces, export): "
        f"{total_source / workflow_wall:.2f} s of source per wall second in one job; "
        f"whole benchmark incl. the separately timed VAD steps: {elapsed:.1f} s wall"
    )


if __name__ == "__main__":
    folder = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "resources" / "demo" / "raw-episodes"
    )
    main(folder, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
