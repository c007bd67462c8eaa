"""Collection: long videos in, one-speaker one-face clips in the MER2024 layout out.

Per source video, three steps (each a rule of ``rules/collect.smk``):

1. :func:`cut_segments`: candidate segments. A subtitle file of the same stem
   (``.srt``/``.ass``) gives the cut times and the text; without one, Silero VAD finds
   speech and consecutive speech segments are merged when the gap is short and a
   Resemblyzer speaker embedding says both sides are the same voice.
2. :func:`filter_segments`: duration within bounds, then one decode pass over the video:
   frames are sampled at ``face_fps`` only inside candidate segments (windows of nearby
   segments are decoded with an input seek, so the rest of the video is never decoded),
   faces are counted by YuNet and a clip is kept when at least ``face_fraction`` of its
   sampled frames hold exactly one face and dlib's face-identity embeddings of those
   faces are all within ``identity_threshold`` of each other.
3. :func:`export_clips`: kept segments cut to H.264/AAC mp4 (re-encoded, so the cut is
   frame accurate and audio and video start together), written atomically.

Every candidate is a row in the clips table, kept or with the reason it was not; a video
that cannot be used at all (empty, does not decode, no audio or video track, garbage
subtitles) is one row named after the video, with the reason.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa

from .errors import AudioLoadingError, VideoLoadingError
from .media import (
    DETECT_MAX_SIDE,
    decode_audio,
    ffmpeg_error,
    ffmpeg_exe,
    make_detector,
    run_ffmpeg,
)
from .subtitles import SUBTITLE_SUFFIXES, SubtitleError, read_subtitles
from .tables import COLLECT_CLIPS, COLLECT_SEGMENTS, table_from_rows

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".flv", ".webm", ".ts", ".m4v", ".mpg", ".rmvb")
CLIPS_DIR = "video-unlabeled-with-test2noise"


@dataclass
class CollectParams:
    """The collection settings (config block ``collect``, minus folders)."""

    sample_rate: int = 16000
    vad_threshold: float = 0.5
    vad_min_silence: float = 0.1
    vad_speech_pad: float = 0.03
    merge_max_gap: float = 1.5
    merge_min_similarity: float = 0.65
    merge_min_speech: float = 1.0
    merge_shot_cuts: bool = True
    shot_cut_threshold: float = 0.15
    subtitle_merge_max_gap: float = 0.0
    min_duration: float = 2.0
    max_duration: float = 16.0
    face_fps: float = 2.0
    face_fraction: float = 0.5
    detector: str = "yuface"
    detector_model: str | None = None
    detector_score: float = 0.6
    identity_threshold: float = 0.55
    identity_frames: int = 3
    window_gap: float = 10.0
    timeout: float = 3600.0

    @classmethod
    def from_config(cls, cfg: dict) -> CollectParams:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in cfg.items() if k in known})


# ---------------------------------------------------------------------------------------
# Finding the videos
# ---------------------------------------------------------------------------------------


def clip_stem(stem: str) -> str:
    """A source file stem made safe for clip names (letters, digits, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "video"


def list_videos(videos_dir: str | os.PathLike) -> dict[str, str]:
    """Map video id (safe stem) -> file name for each video in ``videos_dir``."""
    folder = Path(videos_dir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"collect.videos_dir {str(folder)!r} is not a folder. Please point it at a folder "
            "of long videos."
        )
    videos: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        vid = clip_stem(entry.stem)
        if vid in videos:
            raise ValueError(
                f"collect.videos_dir {str(folder)!r}: {videos[vid]!r} and {entry.name!r} give "
                f"the same video id {vid!r}. Please rename one of them."
            )
        videos[vid] = entry.name
    return videos


def find_subtitle(video: str | os.PathLike) -> Path | None:
    """The subtitle file of the same stem as ``video``, if any (``.srt`` preferred)."""
    video = Path(video)
    for suffix in SUBTITLE_SUFFIXES:
        for candidate in (video.with_suffix(suffix), video.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def segment_name(vid: str, start: float) -> str:
    return f"{vid}_{int(round(start * 1000)):09d}"


# ---------------------------------------------------------------------------------------
# Step 1: candidate segments
# ---------------------------------------------------------------------------------------


@dataclass
class Probe:
    duration: float | None
    has_audio: bool
    has_video: bool


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_video(path: str | os.PathLike, timeout: float = 60) -> Probe:
    """Duration and tracks of a media file, from ffmpeg's header dump; errors name it."""
    path = Path(path)
    if not path.is_file():
        raise VideoLoadingError(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise VideoLoadingError(f"{path}: file is empty (0 bytes)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    text = proc.stderr.decode("utf-8", errors="replace")
    streams = [line for line in text.splitlines() if line.strip().startswith("Stream #")]
    if not streams:
        reason = ffmpeg_error(proc) if "Invalid data" in text else "no audio or video stream"
        raise VideoLoadingError(f"{path}: not a readable video ({reason})")
    match = _DURATION.search(text)
    duration = None
    if match:
        h, m, s = match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return Probe(
        duration=duration,
        has_audio=any(": Audio:" in line for line in streams),
        has_video=any(": Video:" in line and "attached pic" not in line for line in streams),
    )


def vad_segments(
    pcm: np.ndarray,
    sample_rate: int,
    threshold: float = 0.5,
    min_silence: float = 0.1,
    speech_pad: float = 0.03,
) -> list[tuple]:
    """Speech (start, end) in seconds found by Silero VAD (its ONNX model, from the wheel):
    a silence shorter than ``min_silence`` does not end a segment, and each segment is
    widened by ``speech_pad`` on both sides (Silero's own defaults: 0.1 s and 0.03 s)."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    model = load_silero_vad(onnx=True)
    audio = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
    stamps = get_speech_timestamps(
        audio,
        model,
        threshold=threshold,
        sampling_rate=sample_rate,
        min_silence_duration_ms=int(round(min_silence * 1000)),
        speech_pad_ms=int(round(speech_pad * 1000)),
        return_seconds=False,
    )
    return [(s["start"] / sample_rate, s["end"] / sample_rate) for s in stamps]


Embedder = Callable[[np.ndarray], np.ndarray]


def resemblyzer_embedder() -> Embedder:
    """A unit-norm 256-d GE2E voice embedding of 16 kHz float audio (Resemblyzer)."""
    from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(wav: np.ndarray) -> np.ndarray:
        return np.asarray(encoder.embed_utterance(wav.astype(np.float32)), dtype=np.float64)

    return embed


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / (np.linalg.norm(v) or 1.0)


def split_long_turn(pieces: list[tuple], max_duration: float) -> list[list[tuple]]:
    """A turn (its speech pieces, in order) longer than ``max_duration`` split at its
    longest pause, again and again, until every part fits (a single piece longer than
    ``max_duration`` stays as it is: the duration filter gives the reason)."""
    if len(pieces) < 2 or pieces[-1][1] - pieces[0][0] <= max_duration:
        return [pieces]
    gaps = [pieces[i + 1][0] - pieces[i][1] for i in range(len(pieces) - 1)]
    cut = int(np.argmax(gaps)) + 1
    return split_long_turn(pieces[:cut], max_duration) + split_long_turn(pieces[cut:], max_duration)


def assemble_turns(
    segments: list[tuple],
    pcm: np.ndarray,
    sample_rate: int,
    embed: Embedder,
    max_gap: float,
    min_similarity: float,
    min_speech: float = 1.0,
    max_duration: float = float("inf"),
    other_face: Callable[[int], bool] | None = None,
) -> list[tuple]:
    """Speaker turns from consecutive speech segments: the next segment joins the turn
    being built when the pause before it is at most ``max_gap`` seconds, the video does not
    show a different face after a shot cut in that pause (``other_face(i)``: the pause
    before segment ``i``), and the voice of the turn so far (its last 10 s of speech) has
    cosine similarity at least ``min_similarity`` with the voice of the next segment, which
    is judged together with the segments right after it (within ``max_gap``) until
    ``min_speech`` seconds of speech are heard: a Resemblyzer embedding of a fraction of a
    second is unreliable. Where even that is too little speech, the video decides alone
    (with ``other_face`` given, no other face: the segment joins). Turns longer than
    ``max_duration`` are split at their longest pauses (:func:`split_long_turn`)."""

    def audio(pieces: list[tuple], limit: float = 10.0) -> np.ndarray:
        parts, total = [], 0.0
        for s, e in reversed(pieces):
            parts.append(pcm[int(s * sample_rate) : int(e * sample_rate)])
            total += e - s
            if total >= limit:
                break
        return np.concatenate(parts[::-1]).astype(np.float32) / 32768.0

    def lookahead(i: int) -> list[tuple]:
        pieces = [segments[i]]
        j = i + 1
        while (
            sum(e - s for s, e in pieces) < min_speech
            and j < len(segments)
            and segments[j][0] - segments[j - 1][1] <= max_gap
            and not (other_face and other_face(j))
        ):
            pieces.append(segments[j])
            j += 1
        return pieces

    turns: list[list[tuple]] = []
    for i, seg in enumerate(segments):
        if turns and seg[0] - turns[-1][-1][1] <= max_gap:
            # the voice first: the faces of a cut (dlib) are embedded only when asked
            ahead = lookahead(i)
            if other_face is not None and sum(e - s for s, e in ahead) < min_speech:
                join = True  # too little speech to judge: the picture decides
            else:
                turn_voice = _unit(embed(audio(turns[-1])))
                next_voice = _unit(embed(audio(ahead, float("inf"))))
                join = float(turn_voice @ next_voice) >= min_similarity
            if join and not (other_face and other_face(i)):
                turns[-1].append(seg)
                continue
        turns.append([seg])
    return [
        (part[0][0], part[-1][1]) for turn in turns for part in split_long_turn(turn, max_duration)
    ]


def speaker_turns(
    video_path: str | os.PathLike,
    speech: list[tuple],
    pcm: np.ndarray,
    params: CollectParams,
    embed: Embedder | None = None,
    face_embed: FaceEmbedder | None = None,
) -> list[tuple]:
    """:func:`assemble_turns` with this video's evidence: the voices and (with
    ``params.merge_shot_cuts``) the cuts to another person (:func:`shot_cuts`). A cut
    to another person inside a speech segment splits it at the quietest moment between
    the two frames (speakers hand over without a pause), unless a pause lies between those
    frames too; a cut to another person in a pause ends the turn."""
    other_face = None
    if params.merge_shot_cuts:
        pad = 1.0 / params.face_fps
        cuts = shot_cuts(video_path, [(s - pad, e + pad) for s, e in speech], params, face_embed)
        pauses = list(zip([e for _, e in speech[:-1]], [s for s, _ in speech[1:]], strict=True))
        # a cut between two frames that also hold a pause is taken to be in the pause;
        # one inside speech with another person after it splits that speech
        inner = [
            c
            for c in cuts
            if not any(a < c.t1 and b > c.t0 for a, b in pauses) and c.other_person()
        ]
        pieces = []
        for s, e in speech:
            inside = sorted(
                _quietest(pcm, params.sample_rate, max(c.t0, s), min(c.t1, e))
                for c in inner
                if c.t0 < e - 0.2 and c.t1 > s + 0.2
            )
            bounds = [s] + [m for m in inside if s + 0.2 < m < e - 0.2] + [e]
            pieces += list(zip(bounds[:-1], bounds[1:], strict=True))
        log.info("%d shot cuts, %d inside speech to another person", len(cuts), len(inner))
        speech = pieces

        def other_face(i: int) -> bool:
            return any(
                c.t0 <= speech[i][0] and c.t1 >= speech[i - 1][1] and c.other_person() for c in cuts
            )

    return assemble_turns(
        speech,
        pcm,
        params.sample_rate,
        embed or resemblyzer_embedder(),
        params.merge_max_gap,
        params.merge_min_similarity,
        params.merge_min_speech,
        params.max_duration,
        other_face,
    )


def merge_cues(
    video_path: str | os.PathLike,
    rows: list[dict],
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
) -> list[dict]:
    """Adjacent subtitle cues of one speaker joined (``params.subtitle_merge_max_gap`` > 0):
    a cue joins the one before when the gap is at most that, the joined cue stays within
    ``max_duration``, and the picture does not cut to another person in the gap
    (:func:`shot_cuts`); texts are joined with a space. Cues with a reason stay apart."""
    good = sorted((r for r in rows if r["reason"] is None), key=lambda r: r["start"])
    pad = 1.0 / params.face_fps
    gaps = [
        (a["end"] - pad, b["start"] + pad)
        for a, b in zip(good[:-1], good[1:], strict=True)
        if 0 <= b["start"] - a["end"] <= params.subtitle_merge_max_gap
    ]
    cuts = shot_cuts(video_path, gaps, params, face_embed) if gaps else []
    merged: list[dict] = []
    for row in good:
        if merged:
            last = merged[-1]
            gap = row["start"] - last["end"]
            if (
                0 <= gap <= params.subtitle_merge_max_gap
                and row["end"] - last["start"] <= params.max_duration
                and not any(
                    c.t0 <= row["start"] and c.t1 >= last["end"] and c.other_person() for c in cuts
                )
            ):
                last["end"] = row["end"]
                last["text"] = " ".join(t for t in (last["text"], row["text"]) if t)
                continue
        merged.append(dict(row))
    bad = [r for r in rows if r["reason"] is not None]
    return sorted(merged + bad, key=lambda r: (r["start"], r["end"]))


def _segment_row(vid, video, source, start, end, text=None, reason=None, name=None) -> dict:
    return {
        "name": name or segment_name(vid, start),
        "video": video,
        "source": source,
        "start": float(start),
        "end": float(end),
        "text": text,
        "reason": reason,
    }


def _unique_names(rows: list[dict]) -> list[dict]:
    """Suffix ``_2``, ``_3``... to names taken by an earlier row (cues starting together)."""
    seen: dict[str, int] = {}
    for row in rows:
        n = seen.get(row["name"], 0) + 1
        seen[row["name"]] = n
        if n > 1:
            row["name"] = f"{row['name']}_{n}"
    return rows


def cut_segments(
    video_path: str | os.PathLike,
    params: CollectParams,
    subtitle_path: str | os.PathLike | None = None,
    embed: Embedder | None = None,
    face_embed: FaceEmbedder | None = None,
) -> pa.Table:
    """Candidate segments of one video (:data:`COLLECT_SEGMENTS`); never raises on bad
    media: a video that cannot be used becomes one row with its reason."""
    video_path = Path(video_path)
    vid, video = clip_stem(video_path.stem), video_path.name
    source = "subtitle" if subtitle_path else "vad"
    try:
        probe = probe_video(video_path, timeout=params.timeout)
        if not probe.has_video:
            raise VideoLoadingError(f"{video_path}: no video track")
        if not probe.has_audio:
            raise AudioLoadingError(f"{video_path}: no audio track")
        if subtitle_path:
            cues = read_subtitles(subtitle_path)
            rows = []
            for cue in cues:
                reason = None
                if cue.end <= cue.start:
                    reason = f"subtitle cue ends ({cue.end:.3f} s) before it starts"
                elif probe.duration is not None and cue.start >= probe.duration:
                    reason = (
                        f"subtitle cue starts after the end of the video ({probe.duration:.2f} s)"
                    )
                rows.append(_segment_row(vid, video, source, cue.start, cue.end, cue.text, reason))
            if params.subtitle_merge_max_gap > 0:
                rows = merge_cues(video_path, rows, params, face_embed)
            return table_from_rows(_unique_names(rows), COLLECT_SEGMENTS)
        pcm = decode_audio(video_path, params.sample_rate, params.timeout, from_zero=True)
        speech = vad_segments(
            pcm,
            params.sample_rate,
            params.vad_threshold,
            params.vad_min_silence,
            params.vad_speech_pad,
        )
        if speech:
            speech = speaker_turns(video_path, speech, pcm, params, embed, face_embed)
        if not speech:
            raise AudioLoadingError(f"{video_path}: no speech found by voice activity detection")
        rows = [_segment_row(vid, video, source, s, e) for s, e in speech]
        return table_from_rows(rows, COLLECT_SEGMENTS)
    except (VideoLoadingError, AudioLoadingError, SubtitleError, subprocess.TimeoutExpired) as exc:
        reason = str(exc)
        if isinstance(exc, subprocess.TimeoutExpired):
            reason = f"{video_path}: ffmpeg did not finish within {exc.timeout:.0f} s"
        row = _segment_row(vid, video, source, 0.0, 0.0, reason=reason, name=vid)
        return table_from_rows([row], COLLECT_SEGMENTS)


# ---------------------------------------------------------------------------------------
# Step 2: filtering
# ---------------------------------------------------------------------------------------


def decode_windows(spans: list[tuple], gap: float) -> list[tuple]:
    """Spans (start, end) merged into decode windows where they are at most ``gap`` s
    apart: each window is decoded by one seeking ffmpeg call, the rest never."""
    windows: list[list[float]] = []
    for start, end in sorted(spans):
        if windows and start - windows[-1][1] <= gap:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(s, e) for s, e in windows]


def iter_frames(
    path: str | os.PathLike,
    start: float,
    end: float,
    fps: float,
    max_side: int = DETECT_MAX_SIDE,
    timeout: float = 3600,
) -> Iterator[tuple[float, np.ndarray]]:
    """(time in the source, BGR frame) sampled at ``fps`` over [start, end), downscaled to
    ``max_side``, streamed from one ffmpeg process (input seek: decoding starts at the
    keyframe before ``start``); one frame in memory at a time."""
    scale = (
        f"scale=w='if(gte(iw,ih),min({max_side},iw),-2)':h='if(gte(iw,ih),-2,min({max_side},ih))'"
    )
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-ss", f"{start:.3f}", "-i", str(path)]
    # round=up: the frame given for time t is the one on screen at t (the default, near,
    # gives the last frame before t + 0.5 / fps: up to half a sampling step late)
    cmd += ["-t", f"{max(end - start, 1e-3):.3f}", "-map", "0:v:0"]
    cmd += ["-vf", f"fps={fps}:round=up,{scale}"]
    cmd += ["-f", "image2pipe", "-c:v", "bmp", "-"]
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        index = 0
        while True:
            head = proc.stdout.read(6)
            if len(head) < 6:
                break
            if head[:2] != b"BM":
                raise VideoLoadingError(f"{path}: unexpected bytes in ffmpeg's frame stream")
            size = int.from_bytes(head[2:6], "little")
            blob = head + proc.stdout.read(size - 6)
            frame = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
            if frame is None:
                raise VideoLoadingError(f"{path}: a decoded frame could not be read")
            yield start + index / fps, frame
            index += 1
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(cmd, timeout)
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            err = ffmpeg_error(subprocess.CompletedProcess(cmd, proc.returncode, b"", stderr))
            raise VideoLoadingError(f"{path}: video does not decode ({err})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


FaceEmbedder = Callable[[np.ndarray, tuple], np.ndarray]


def dlib_face_embedder() -> FaceEmbedder:
    """dlib's 128-d face-identity embedding (the ``face_recognition_models`` ResNet)."""
    import dlib
    import face_recognition_models as frm

    shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def embed(frame: np.ndarray, box: tuple) -> np.ndarray:
        x, y, w, h = (int(v) for v in box)
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        landmarks = shape(rgb, dlib.rectangle(x, y, x + w, y + h))
        return np.asarray(net.compute_face_descriptor(rgb, landmarks), dtype=np.float64)

    return embed


def frame_signature(frame: np.ndarray) -> np.ndarray:
    """A 32x32 grey thumbnail, zero-mean and unit-norm: two frames of one shot correlate
    highly (a talking head moves little), frames either side of a hard cut do not."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    small -= small.mean()
    return small.ravel() / (np.linalg.norm(small) or 1.0)


def cut_score(a: np.ndarray, b: np.ndarray) -> float:
    """1 - correlation of two :func:`frame_signature` thumbnails (0 same picture, ~1 cut)."""
    return float(1.0 - a @ b)


FACE_CROP_MARGIN = 0.6  # share of the face box kept around it for the identity embedding


def face_crop(frame: np.ndarray, face) -> tuple[np.ndarray, tuple]:
    """The region around a detected face (a copy, so the frame can go) and the face's box
    in it: what :data:`FaceEmbedder` needs, in a few kilobytes."""
    m = FACE_CROP_MARGIN
    h, w = frame.shape[:2]
    x0, y0 = max(0, int(face.x - m * face.w)), max(0, int(face.y - m * face.h))
    x1 = min(w, int(face.x + (1 + m) * face.w))
    y1 = min(h, int(face.y + (1 + m) * face.h))
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    return crop, (face.x - x0, face.y - y0, face.w, face.h)


@dataclass
class ShotCut:
    """A hard cut between the face_fps frames at ``t0`` and ``t1``: the single face of
    each side (None: not exactly one face), embedded only when :meth:`other_person` is
    asked."""

    t0: float
    t1: float
    before: tuple | None
    after: tuple | None
    embed: FaceEmbedder
    threshold: float
    _answer: bool | None = None

    def other_person(self) -> bool:
        if self._answer is None:
            self._answer = False
            if self.before is not None and self.after is not None:
                a, b = self.embed(*self.before), self.embed(*self.after)
                self._answer = float(np.linalg.norm(a - b)) > self.threshold
        return self._answer


def shot_cuts(
    video_path: str | os.PathLike,
    spans: list[tuple],
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
) -> list[ShotCut]:
    """The hard cuts of the face_fps grid over ``spans`` (decoded as
    :func:`filter_segments` does, nothing else): consecutive frames whose
    :func:`cut_score` is at least ``params.shot_cut_threshold``. Faces are detected only
    on the two frames of a cut; their identities are compared only when asked."""
    fps = params.face_fps
    detect = make_detector(params.detector, params.detector_model, params.detector_score)
    lazy: dict = {}

    def embed(frame: np.ndarray, box: tuple) -> np.ndarray:
        if "f" not in lazy:
            lazy["f"] = face_embed or dlib_face_embedder()
        return lazy["f"](frame, box)

    def single_face(frame: np.ndarray) -> tuple | None:
        faces = detect(frame)
        return face_crop(frame, faces[0]) if len(faces) == 1 else None

    cuts: list[ShotCut] = []
    for w_start, w_end in decode_windows(spans, params.window_gap):
        k0 = int(np.ceil(w_start * fps - 1e-6))
        prev = None  # (t, frame, signature)
        for t, frame in iter_frames(video_path, k0 / fps, w_end, fps, timeout=params.timeout):
            sig = frame_signature(frame)
            if prev is not None and cut_score(prev[2], sig) >= params.shot_cut_threshold:
                before, after = single_face(prev[1]), single_face(frame)
                cuts.append(ShotCut(prev[0], t, before, after, embed, params.identity_threshold))
            prev = (t, frame, sig)
    return cuts


def _quietest(pcm: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    """The middle of the quietest 50 ms of ``pcm`` in [start, end] (seconds)."""
    hop = max(1, sample_rate // 100)
    a, b = int(start * sample_rate), int(end * sample_rate)
    piece = pcm[a:b].astype(np.float64)
    n = len(piece) // hop
    if n < 5:
        return (start + end) / 2
    energy = (piece[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    energy = np.convolve(energy, np.ones(5), mode="valid")
    return (a + (int(np.argmin(energy)) + 2.5) * hop) / sample_rate


def max_pairwise_distance(vectors: list[np.ndarray]) -> float:
    """Largest Euclidean distance between any two vectors (0 for fewer than two)."""
    if len(vectors) < 2:
        return 0.0
    m = np.stack(vectors)
    d = np.sqrt(((m[:, None, :] - m[None, :, :]) ** 2).sum(-1))
    return float(d.max())


class _LazyFace:
    """A face crop whose identity embedding is computed once, when first asked for."""

    def __init__(self, crop: np.ndarray, box: tuple):
        self.crop, self.box, self._vector = crop, box, None

    def vector(self, embed: FaceEmbedder) -> np.ndarray:
        if self._vector is None:
            self._vector = embed(self.crop, self.box)
        return self._vector


@dataclass
class _Tally:
    frames: int = 0
    one_face: int = 0
    identity_times: set = field(default_factory=set)
    embeddings: list = field(default_factory=list)


def _identity_times(start: float, end: float, fps: float, n: int) -> set[int]:
    """Indices (in the video's sampled-frame grid) at which identity embeddings are taken."""
    first, last = int(np.ceil(start * fps - 1e-6)), int(np.floor(end * fps - 1e-6))
    if last < first:
        return set()
    return {int(round(v)) for v in np.linspace(first, last, num=min(n, last - first + 1))}


def filter_segments(
    video_path: str | os.PathLike,
    segments: pa.Table,
    params: CollectParams,
    face_embed: FaceEmbedder | None = None,
) -> tuple[pa.Table, dict]:
    """Decisions for one video's candidates (:data:`COLLECT_CLIPS`) and timing figures."""
    timings = {"decode_detect_s": 0.0, "identity_s": 0.0, "frames": 0, "windows": 0}
    rows = []
    todo = []
    for seg in segments.to_pylist():
        row = {**seg, "kept": False, "frames": None, "one_face_fraction": None}
        row.update({"face_distance": None, "clip": None})
        duration = seg["end"] - seg["start"]
        if seg["reason"] is None and not (params.min_duration <= duration <= params.max_duration):
            row["reason"] = (
                f"duration {duration:.2f} s outside [{params.min_duration:g}, "
                f"{params.max_duration:g}] s"
            )
        rows.append(row)
        if row["reason"] is None:
            todo.append(row)
    if not todo:
        return table_from_rows(rows, COLLECT_CLIPS), timings
    detect = make_detector(params.detector, params.detector_model, params.detector_score)
    face_embed = face_embed or dlib_face_embedder()
    tallies = {r["name"]: _Tally() for r in todo}
    for r in todo:
        tallies[r["name"]].identity_times = _identity_times(
            r["start"], r["end"], params.face_fps, params.identity_frames
        )
    todo.sort(key=lambda r: r["start"])
    windows = decode_windows([(r["start"], r["end"]) for r in todo], params.window_gap)
    timings["windows"] = len(windows)
    try:
        for w_start, w_end in windows:
            # sample on the video's global grid k / fps so that results do not depend on
            # how segments are grouped into windows
            k0 = int(np.ceil(w_start * params.face_fps - 1e-6))
            t0 = k0 / params.face_fps
            active = [r for r in todo if r["end"] > w_start and r["start"] < w_end]
            tick = time.perf_counter()
            for t, frame in iter_frames(
                video_path, t0, w_end, params.face_fps, timeout=params.timeout
            ):
                k = int(round(t * params.face_fps))
                inside = [r for r in active if r["start"] <= t < r["end"]]
                if not inside:
                    continue
                timings["frames"] += 1
                faces = detect(frame)
                for r in inside:
                    tally = tallies[r["name"]]
                    tally.frames += 1
                    if len(faces) == 1:
                        tally.one_face += 1
                if len(faces) == 1 and any(k in tallies[r["name"]].identity_times for r in inside):
                    crop = _LazyFace(*face_crop(frame, faces[0]))  # embedded if a check needs it
                    for r in inside:
                        if k in tallies[r["name"]].identity_times:
                            tallies[r["name"]].embeddings.append(crop)
            timings["decode_detect_s"] += time.perf_counter() - tick
    except (VideoLoadingError, subprocess.TimeoutExpired) as exc:
        reason = f"{video_path}: video does not decode ({exc})"
        if isinstance(exc, VideoLoadingError):
            reason = str(exc)
        for r in todo:
            r["reason"] = reason
        return table_from_rows(rows, COLLECT_CLIPS), timings
    for r in todo:
        tally = tallies[r["name"]]
        r["frames"] = tally.frames
        if tally.frames == 0:
            r["reason"] = "no frame sampled in the segment"
            continue
        fraction = tally.one_face / tally.frames
        r["one_face_fraction"] = fraction
        if fraction < params.face_fraction:
            r["reason"] = (
                f"exactly one face in {tally.one_face} of {tally.frames} sampled frames "
                f"({fraction:.2f} < collect.face_fraction {params.face_fraction:g})"
            )
            continue
        t_id = time.perf_counter()
        distance = max_pairwise_distance([c.vector(face_embed) for c in tally.embeddings])
        timings["identity_s"] += time.perf_counter() - t_id
        r["face_distance"] = distance
        if distance > params.identity_threshold:
            r["reason"] = (
                f"faces of more than one person (identity distance {distance:.3f} > "
                f"collect.identity_threshold {params.identity_threshold:g})"
            )
            continue
        r["kept"] = True
    return table_from_rows(rows, COLLECT_CLIPS), timings


# ---------------------------------------------------------------------------------------
# Step 3: export
# ---------------------------------------------------------------------------------------


def cut_clip(video_path: str | os.PathLike, start: float, end: float, out: Path, timeout: float):
    """[start, end) of ``video_path`` as H.264/AAC mp4 at ``out``, written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    args = ["-y", "-ss", f"{start:.3f}", "-i", str(video_path), "-t", f"{end - start:.3f}"]
    args += ["-map", "0:v:0", "-map", "0:a:0", "-c:v", "libx264", "-preset", "veryfast"]
    args += ["-crf", "20", "-pix_fmt", "yuv420p", "-threads", "1", "-c:a", "aac", "-b:a", "128k"]
    args += ["-map_metadata", "-1", "-movflags", "+faststart", str(tmp)]
    try:
        proc = run_ffmpeg(args, timeout)
        if proc.returncode != 0:
            raise VideoLoadingError(
                f"{video_path}: cutting {start:.3f}-{end:.3f} s failed ({ffmpeg_error(proc)})"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export_clips(
    video_path: str | os.PathLike,
    decisions: pa.Table,
    output_root: str | os.PathLike,
    timeout: float = 3600,
    transcribe: Callable[[np.ndarray], str] | None = None,
    workers: int = 1,
) -> pa.Table:
    """Cut every kept clip into ``output_root/video-unlabeled-with-test2noise/`` (``workers``
    single-threaded ffmpeg cuts at a time); a clip that fails to cut is not kept, with the
    reason. With ``transcribe`` (16 kHz int16 -> text, e.g.
    :class:`merlib.whisper.Transcriber`), a kept clip without subtitle text gets the
    transcription of its audio (one clip at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    root = Path(output_root)
    rows = decisions.to_pylist()

    def cut(row: dict) -> None:
        rel = f"{CLIPS_DIR}/{row['name']}.mp4"
        try:
            cut_clip(video_path, row["start"], row["end"], root / rel, timeout)
            row["clip"] = rel
        except (VideoLoadingError, subprocess.TimeoutExpired) as exc:
            row["kept"] = False
            row["reason"] = str(exc)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(cut, [row for row in rows if row["kept"]]))
    for row in rows:
        if row["kept"] and transcribe is not None and not row["text"]:
            try:
                row["text"] = transcribe(decode_audio(root / row["clip"], 16000, timeout))
            except (AudioLoadingError, subprocess.TimeoutExpired) as exc:
                row["kept"], row["clip"], row["reason"] = False, None, str(exc)
    return table_from_rows(rows, COLLECT_CLIPS)


def write_release_csvs(clips: pa.Table, output_root: str | os.PathLike) -> None:
    """``label-transcription.csv`` (kept clips' text) and an empty ``label-disdim.csv``
    (clips are unlabelled until annotated), so that ``output_root`` is a valid data_root."""
    root = Path(output_root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "video-labeled").mkdir(exist_ok=True)
    kept = sorted((r for r in clips.to_pylist() if r["kept"]), key=lambda r: r["name"])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "chinese"])
    for r in kept:
        writer.writerow([r["name"], r["text"] or ""])
    write_text(root / "label-transcription.csv", buffer.getvalue())
    write_text(root / "label-disdim.csv", "name,discrete\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def clips_table(parts: list[pa.Table]) -> pa.Table:
    """All videos' clip rows, sorted by video then start."""
    if not parts:
        return COLLECT_CLIPS.empty_table()
    table = pa.concat_tables(parts)
    return table.sort_by([("video", "ascending"), ("start", "ascending"), ("name", "ascending")])


def fetch_checked(url: str, sha256: str | None, out: str | os.PathLike) -> Path:
    """Download ``url`` (http, https or file) to ``out`` if its sha256 is ``sha256``."""
    import hashlib
    import urllib.request

    out = Path(out)
    if not sha256:
        raise ValueError(
            f"collect.detector_model is a URL ({url}) but collect.detector_sha256 is not set; "
            "please give the file's sha256 so that the download can be checked"
        )
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    found = hashlib.sha256(data).hexdigest()
    if found != sha256.lower():
        raise ValueError(f"{url}: sha256 is {found}, expected {sha256}; not saved")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
