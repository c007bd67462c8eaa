"""Inputs of the collection tests: ffmpeg with merflow's binary, a 12 s video of real faces
and speech that changes person, and candidate segments of a video."""

from __future__ import annotations

import subprocess
from pathlib import Path

from merlib.av.ffmpeg import ffmpeg_exe
from merlib.collect.sources import segment_name
from merlib.schemas import COLLECT_SEGMENTS, table_from_rows


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-nostdin", *args], check=True)


def make_scenes(d: Path, shared_data: Path) -> Path:
    """12 s at 640x480 with real speech: obama (0-4 s), two people (4-8 s), obama (8-10 s)
    then biden (10-12 s)."""
    images = shared_data / "images"
    parts = [("obama.jpg", 4), ("two_people.jpg", 4), ("obama2.jpg", 2), ("biden.jpg", 2)]
    args, chains = [], []
    for i, (name, seconds) in enumerate(parts):
        args += ["-loop", "1", "-framerate", "10", "-t", str(seconds), "-i", str(images / name)]
        chains.append(
            f"[{i}:v]scale=640:480:force_original_aspect_ratio=decrease,"
            f"pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[v{i}]"
        )
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(parts)))
    graph += f"concat=n={len(parts)}:v=1:a=0[v]"
    speech = shared_data / "audio" / "speech_60s_silero_test.wav"
    out = d / "scenes.mp4"
    ffmpeg(
        *args,
        *("-i", str(speech), "-filter_complex", graph, "-map", "[v]", "-map", f"{len(parts)}:a"),
        *("-t", "12", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)),
    )
    return out


def segments_of(video: Path, spans: list[tuple]) -> object:
    rows = [
        {
            "name": segment_name(video.stem, s),
            "video": video.name,
            "source": "subtitle",
            "start": s,
            "end": e,
            "text": "x",
            "reason": None,
        }
        for s, e in spans
    ]
    return table_from_rows(rows, COLLECT_SEGMENTS)
