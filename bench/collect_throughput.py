"""Collection throughput: seconds of source video processed per wall second, and which step
dominates, on real footage without subtitles.

    .venv/bin/python bench/collect_throughput.py [minutes] [threads] [workers=2] [key=value ...]

Builds the real-footage regression set's turns (tests/real_footage.py: real GRID faces at
360x288 25 fps, real speech), repeated, as one video of ``minutes`` (default 60) without a
subtitle file, then runs the workflow's per-video steps on it one
after the other in this process with ``threads`` threads (default 1: cut_segments'
threads), the dlib identity check of filter_clips in ``workers`` processes (default 2:
its rule's threads; 1 = in this process, as before 2 Dec 2026) and export_clips' two
single-threaded cuts at a time (its rule's 2 threads), with the default collect settings
overridden by ``key=value`` (e.g. ``detector=yuface``). Prints each step's wall and CPU
time (this process plus its children: ffmpeg, the dlib workers) and the source seconds
per wall second. The workflow runs one such job per video.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

import real_footage

from merlib.av.decode import decode_audio
from merlib.av.probe import probe_video
from merlib.collect.export import export_clips
from merlib.collect.filtering import filter_segments
from merlib.collect.frames import dlib_face_embedder
from merlib.collect.params import CollectParams
from merlib.collect.turns import resemblyzer_embedder, segment_row, speaker_turns, vad_segments
from merlib.schemas import COLLECT_SEGMENTS, table_from_rows
from merlib.threads import limit_threads


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def long_video(folder: Path, minutes: float) -> Path:
    """Both episodes' turns repeated in one video of about ``minutes`` (one timeline:
    joining files with ffmpeg's concat demuxer drifts AAC audio by ~20 ms per join)."""
    repeats = max(1, int(round(minutes * 60 / 142)))  # dialogue_a + dialogue_b: 142 s
    real_footage.EPISODES["hour"] = (
        real_footage.EPISODES["dialogue_a"][0] + real_footage.EPISODES["dialogue_b"][0],
        real_footage.EPISODES["dialogue_a"][1] + [1.0] + real_footage.EPISODES["dialogue_b"][1],
    )
    out = folder / "long"
    real_footage.build_episode("hour", out, repeat=repeats)
    return out / "hour.mp4"


def main(minutes: float, threads: int, workers: int, overrides: dict) -> None:
    limit_threads(threads)
    params = CollectParams.from_config(overrides)
    print(f"{params}, filter workers {workers}")
    wall: dict[str, float] = defaultdict(float)
    cpus: dict[str, float] = defaultdict(float)

    def timed(step, fn, *args, **kwargs):
        w, c = time.perf_counter(), cpu()
        out = fn(*args, **kwargs)
        wall[step] += time.perf_counter() - w
        cpus[step] += cpu() - c
        return out

    with tempfile.TemporaryDirectory() as tmp:
        video = long_video(Path(tmp), minutes)
        start = time.perf_counter()
        speaker = timed("load models", resemblyzer_embedder)
        face = timed("load models", dlib_face_embedder)
        face_calls = {"n": 0, "s": 0.0}

        def counted_face(frame, box):
            tick = time.perf_counter()
            v = face(frame, box)
            face_calls["n"] += 1
            face_calls["s"] += time.perf_counter() - tick
            return v

        source = timed("probe", probe_video, video).duration
        pcm = timed("decode audio", decode_audio, video, params.sample_rate)
        speech = timed(
            "VAD (Silero)",
            vad_segments,
            pcm,
            params.sample_rate,
            params.vad_threshold,
            params.vad_min_silence,
            params.vad_speech_pad,
        )
        before = dict(face_calls)
        turns = timed(
            "turns (frames, cuts, voices)",
            speaker_turns,
            video,
            speech,
            pcm,
            params,
            speaker,
            counted_face,
        )
        cut_faces = face_calls["n"] - before["n"], face_calls["s"] - before["s"]
        rows = [segment_row("hour", video.name, "vad", s, e) for s, e in turns]
        segments = table_from_rows(rows, COLLECT_SEGMENTS)
        w, c = time.perf_counter(), cpu()
        if workers > 1:  # the identity check overlaps decoding: one step
            decisions, t = filter_segments(video, segments, params, workers=workers)
        else:
            decisions, t = filter_segments(video, segments, params, counted_face)
        w, c = time.perf_counter() - w, cpu() - c
        if workers > 1:
            wall[f"filter (dlib in {workers} procs)"] += w
            cpus[f"filter (dlib in {workers} procs)"] += c
        else:
            share = t["identity_s"] / max(w, 1e-9)
            wall["filter: decode + YuNet"] += w * (1 - share)
            cpus["filter: decode + YuNet"] += c * (1 - share)
            wall["filter: dlib identity"] += w * share
            cpus["filter: dlib identity"] += c * share
        timed(
            "export (2 cuts at a time)",
            export_clips,
            video,
            decisions,
            Path(tmp) / "out",
            workers=2,  # rule export_clips has 2 threads
        )
        elapsed = time.perf_counter() - start
    kept = sum(decisions.column("kept").to_pylist())
    print(
        f"{source:.0f} s of source video (360x288 25 fps), {len(speech)} VAD segments, "
        f"{len(turns)} candidates, {kept} kept, {threads} thread(s)"
    )
    print("step                              wall s    cpu s")
    for step in wall:
        print(f"{step:32s} {wall[step]:7.1f} {cpus[step]:8.1f}")
    print(
        f"dlib embeddings: {cut_faces[0]} at shot cuts ({cut_faces[1]:.1f} s, inside 'turns'), "
        f"{t['identity_faces']} in the identity check"
    )
    print(f"throughput: {source / elapsed:.1f} s of source per wall second ({elapsed:.0f} s)")
    print("load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    plain = [a for a in sys.argv[1:] if "=" not in a]
    keys = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in sys.argv[1:] if "=" in a)}
    main(
        float(plain[0]) if plain else 60.0,
        int(plain[1]) if len(plain) > 1 else 1,
        int(keys.pop("workers", 2)),
        keys,
    )
