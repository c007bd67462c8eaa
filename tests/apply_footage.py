"""Real test videos for the apply stage, built at test time from ../shared/data only:
CREMA-D's actor in six emotions joined into one video (also with two of its sentences
heard over another person's face), Tears of Steel with LibriSpeech speech laid on it,
speech over a grey picture (no face), silence, and the speech spans each holds (VAD of
the separate sources, placed at their offsets)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from merlib.av.ffmpeg import ffmpeg_exe

CREMAD = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
SPEECH = "audio/librispeech/1688-142285-0000.flac"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-nostdin", *args], check=True)


def cremad_joined(data: Path, out: Path) -> tuple[Path, list[tuple[str, float, float]]]:
    """The six CREMA-D clips of actor 1001 one after the other (each re-encoded to a
    common format), with (emotion, start, end) of each clip in the joined video."""
    parts, spans, t = [], [], 0.0
    for i, emo in enumerate(CREMAD):
        part = out.parent / f"part{i}.mp4"
        ffmpeg(
            "-i",
            str(data / "video" / "cremad" / f"1001_DFA_{emo}_XX.flv"),
            "-vf",
            "scale=480:360,fps=25",
            "-ar",
            "16000",
            "-ac",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(part),
        )
        duration = _duration(part)
        spans.append((emo, t, t + duration))
        t += duration
        parts.append(part)
    listing = out.parent / "parts.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out))
    return out, spans


def cremad_over_another_face(data: Path, out: Path) -> tuple[Path, tuple[float, float]]:
    """:func:`cremad_joined` with the actor's third and fourth sentences heard over a GRID
    talker's face (the camera on someone else while the actor speaks on, 4.2 s: longer
    than a reaction shot), and the (start, end) of that stretch in the video."""
    joined, spans = cremad_joined(data, out.parent / "cremad.mp4")
    parts = [out.parent / f"part{i}.mp4" for i in range(len(spans))]
    listing = out.parent / "voice.txt"
    listing.write_text(f"file '{parts[2]}'\nfile '{parts[3]}'\n")
    voice = out.parent / "voice.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(voice))
    other = out.parent / "other_face.mp4"
    ffmpeg(
        "-stream_loop", "-1", "-i", str(data / "video" / "grid" / "bbaf2n.mpg"),
        "-i", str(voice), "-map", "0:v:0", "-map", "1:a:0", "-t", f"{_duration(voice):.3f}",
        "-vf", "scale=480:360,fps=25,setsar=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-c:a", "copy", str(other),
    )  # fmt: skip
    listing.write_text("".join(f"file '{p}'\n" for p in [*parts[:2], other, *parts[4:]]))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out))
    return out, (spans[2][1], spans[3][2])


def _duration(path: Path) -> float:
    from merlib.av.probe import probe_video

    return float(probe_video(path).duration)


def tears_with_speech(data: Path, out: Path, offset: float = 1.0) -> Path:
    """Tears of Steel's 10 s (no audio of its own) with a LibriSpeech sentence from
    ``offset`` seconds."""
    ffmpeg(
        "-i",
        str(data / "video" / "broadcast" / "tears_of_steel_10s.mp4"),
        "-i",
        str(data / SPEECH),
        "-filter_complex",
        f"[1:a]adelay={int(offset * 1000)}:all=1,apad,aresample=16000[a]",
        "-map",
        "0:v",
        "-map",
        "[a]",
        "-t",
        "10",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        str(out),
    )
    return out


def grey_with(out: Path, audio: Path | None, seconds: float = 6.0) -> Path:
    """A grey picture (no face) with ``audio``, or with digital silence."""
    args = ["-f", "lavfi", "-i", "color=c=gray:s=320x240:r=25"]
    args += ["-i", str(audio)] if audio else ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg(*args, "-shortest" if audio else "-t", *([] if audio else [str(seconds)]), str(out))
    return out


def speech_spans(path: Path, offset: float = 0.0) -> list[tuple[float, float]]:
    """Silero VAD speech of a media file's audio, shifted by ``offset`` seconds."""
    from merlib.av.decode import decode_audio
    from merlib.collect.turns import vad_segments

    return [(s + offset, e + offset) for s, e in vad_segments(decode_audio(path, 16000), 16000)]


def coverage(truth: list[tuple], turns: list[tuple]) -> float:
    """Share of the seconds of ``truth`` spans that lie inside some turn."""
    total = sum(e - s for s, e in truth)
    inside = 0.0
    for s, e in truth:
        for a, b in turns:
            inside += max(0.0, min(e, b) - max(s, a))
    return inside / total if total else 1.0
