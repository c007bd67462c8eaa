"""A clip's or an episode's audio laid out on whole steps, its frames rendered and the
whole encoded to mp4 (run on worker threads)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..av.encode import encode_mp4
from ..av.wav import pcm16, write_wav
from .face_assets import FaceAsset
from .planning import ClipPlan, Segment
from .rendering import Shot, render_frames
from .spec import FPS, MAX_CLIP_S, MIN_CLIP_S, NOISE_STD, SAMPLE_RATE, STEP_S
from .speech import SpeechSynthesisError

# The demo mp4: H.264 at crf 23, AAC at 64 kbit/s, 16 kHz mono, index first.
CRF = 23
AUDIO_BITRATE = "64k"


def encode_clip_mp4(frames: Iterator[np.ndarray], audio: np.ndarray, out_path: Path) -> None:
    """Encode BGR ``frames`` at FPS and 16 kHz float ``audio`` (same length) to mp4."""
    out_path = Path(out_path)
    wav = out_path.with_suffix(".wav")
    write_wav(wav, pcm16(audio), SAMPLE_RATE)
    try:
        encode_mp4(
            frames,
            FPS,
            wav,
            out_path,
            crf=CRF,
            audio_bitrate=AUDIO_BITRATE,
            audio_rate=SAMPLE_RATE,
            faststart=True,
        )
    finally:
        wav.unlink(missing_ok=True)


def _steps(seconds: float) -> int:
    return int(np.ceil(seconds / STEP_S - 1e-9))


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.standard_normal(n) * NOISE_STD).astype(np.float32)


def build_clip_audio(plan: ClipPlan, speech: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A clip's 16 kHz audio (a whole number of steps) and its speech start and end (s)."""
    rng = np.random.default_rng([plan.seed, 1])
    lead = int(rng.uniform(0.3, 0.7) * SAMPLE_RATE)
    trail = rng.uniform(0.3, 0.7)
    total_s = max(MIN_CLIP_S, (lead + speech.size) / SAMPLE_RATE + trail)
    n = _steps(total_s) * int(STEP_S * SAMPLE_RATE)
    if n / SAMPLE_RATE > MAX_CLIP_S:
        raise SpeechSynthesisError(
            f"{plan.name}: {n / SAMPLE_RATE:.1f} s of audio for {plan.text!r}, "
            f"over the {MAX_CLIP_S} s limit"
        )
    audio = _noise(rng, n)
    audio[lead : lead + speech.size] += speech
    return audio, lead / SAMPLE_RATE, (lead + speech.size) / SAMPLE_RATE


def render_clip(plan: ClipPlan, speech: np.ndarray, face: FaceAsset, out_path: Path) -> float:
    """Render and encode one clip; returns its duration in seconds."""
    audio, s0, s1 = build_clip_audio(plan, speech)
    duration = audio.size / SAMPLE_RATE
    n_frames = int(round(duration * FPS))
    shot = Shot(face, plan.expression, plan.face_strength, 0.0, duration + 1.0, s0, s1, plan.seed)
    encode_clip_mp4(render_frames([shot], audio, n_frames), audio, out_path)
    return duration


@dataclass(frozen=True)
class Placed:
    segment: Segment
    start: float  # speech start (s)
    end: float  # speech end (s)


def build_episode_audio(
    segments: Sequence[Segment], speeches: Sequence[np.ndarray], seed: int, min_s: float
) -> tuple[np.ndarray, list[Placed], list[float]]:
    """Lay speech out back to back with silent gaps until at least ``min_s`` seconds.

    Returns the audio, the placed segments (speech boundaries) and the cut times (where
    the picture switches from one segment's face to the next).
    """
    rng = np.random.default_rng([seed, 3])
    ms = SAMPLE_RATE // 1000
    pos = int(rng.integers(400, 900)) * ms
    pieces: list[tuple[int, np.ndarray]] = []
    placed: list[Placed] = []
    cuts: list[float] = []
    for segment, speech in zip(segments, speeches, strict=True):
        if placed:
            gap = int(rng.integers(600, 1500)) * ms
            cuts.append((pos + int(gap * rng.uniform(0.3, 0.7))) / SAMPLE_RATE)
            pos += gap
        # speech lengths are rounded to whole milliseconds so boundaries are exact
        speech = speech[: speech.size // ms * ms]
        pieces.append((pos, speech))
        placed.append(Placed(segment, pos / SAMPLE_RATE, (pos + speech.size) / SAMPLE_RATE))
        pos += speech.size
        if pos / SAMPLE_RATE >= min_s - 0.5:
            break
    else:
        raise SpeechSynthesisError(
            f"{len(segments)} planned segments make only {pos / SAMPLE_RATE:.1f} s, under {min_s} s"
        )
    total_s = max(min_s, pos / SAMPLE_RATE + rng.uniform(0.5, 1.0))
    n = _steps(total_s) * int(STEP_S * SAMPLE_RATE)
    audio = _noise(rng, n)
    for start, speech in pieces:
        audio[start : start + speech.size] += speech
    return audio, placed, cuts


def render_episode(
    segments: Sequence[Segment],
    speeches: Sequence[np.ndarray],
    faces: dict[str, FaceAsset],
    seed: int,
    min_s: float,
    out_path: Path,
) -> tuple[float, list[Placed]]:
    """Render and encode one episode; returns its duration and the placed segments."""
    audio, placed, cuts = build_episode_audio(segments, speeches, seed, min_s)
    duration = audio.size / SAMPLE_RATE
    bounds = [0.0, *cuts, duration + 1.0]
    shots = [
        Shot(
            faces[p.segment.face_id],
            p.segment.expression,
            p.segment.face_strength,
            bounds[i],
            bounds[i + 1],
            p.start,
            p.end,
            p.segment.seed,
        )
        for i, p in enumerate(placed)
    ]
    n_frames = int(round(duration * FPS))
    encode_clip_mp4(render_frames(shots, audio, n_frames), audio, out_path)
    return duration, placed
