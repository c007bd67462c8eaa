"""Step 1, candidate segments (:func:`cut_segments`): subtitle cues, or Silero VAD pieces
assembled into speaker turns (Resemblyzer voice of the turn so far against the next
piece, across pauses up to ``merge_max_gap``, ended by a shot cut to another face; a turn
longer than ``max_duration`` split at its longest pauses)."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..av.decode import decode_audio
from ..av.probe import probe_video
from ..errors import AudioLoadingError, VideoLoadingError
from ..schemas import COLLECT_SEGMENTS, table_from_rows
from ..subtitles import SubtitleError, read_subtitles
from .band import band_changes
from .frames import FaceEmbedder, mark_reaction_shots, shot_cuts
from .params import CollectParams
from .sources import clip_stem, segment_name

log = logging.getLogger(__name__)


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
    audio = torch.from_numpy(pcm.astype(np.float32))
    audio /= 32768.0  # in place: one float copy of the track (a 2-hour film's is 460 MB)
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
    trace: list | None = None,
) -> list[tuple]:
    """Speaker turns from consecutive speech segments: the next segment joins the turn
    being built when the pause before it is at most ``max_gap`` seconds, the video does not
    show a different face after a shot cut in that pause (``other_face(i)``: the pause
    before segment ``i``), and the voice of the turn so far (its last 10 s of speech) has
    cosine similarity at least ``min_similarity`` with the voice of the next segment, which
    is judged together with the segments right after it (within ``max_gap``) until
    ``min_speech`` seconds of speech are heard: a Resemblyzer embedding of a fraction of a
    second is unreliable (so is that of a turn so far shorter than ``min_speech``). Where
    even that is too little speech, the video decides alone (with ``other_face`` given, no
    other face: the segment joins). Turns longer than
    ``max_duration`` are split at their longest pauses (:func:`split_long_turn`).

    ``trace`` (a list) receives one dict per judged pause: ``i``, ``start``, ``prev_end``,
    ``similarity`` (None: not judged by voice), ``other_face``, ``joined``."""

    voices: dict[tuple, np.ndarray] = {}  # a piece list is often judged twice: as the
    # next segment's voice, then (not joined) as the new turn's

    def voice(pieces: list[tuple], limit: float = 10.0) -> np.ndarray:
        """The unit voice embedding of the last ``limit`` seconds of ``pieces``."""
        used, total = [], 0.0
        for s, e in reversed(pieces):
            used.append((s, e))
            total += e - s
            if total >= limit:
                break
        key = tuple(used)
        if key not in voices:
            parts = [pcm[int(s * sample_rate) : int(e * sample_rate)] for s, e in used[::-1]]
            voices[key] = _unit(embed(np.concatenate(parts).astype(np.float32) / 32768.0))
        return voices[key]

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
            similarity = None
            heard = min(sum(e - s for s, e in ahead), sum(e - s for s, e in turns[-1]))
            if other_face is not None and heard < min_speech:
                join = True  # too little speech to judge: the picture decides
                cut = other_face(i)
            else:
                similarity = float(voice(turns[-1]) @ voice(ahead, float("inf")))
                join = similarity >= min_similarity
                cut = bool(other_face and (join or trace is not None) and other_face(i))
            joined = join and not cut
            if trace is not None:
                trace.append(
                    {
                        "i": i,
                        "start": seg[0],
                        "prev_end": turns[-1][-1][1],
                        "similarity": similarity,
                        "other_face": bool(other_face and other_face(i)),
                        "joined": joined,
                    }
                )
            if joined:
                turns[-1].append(seg)
                continue
        turns.append([seg])
    return [
        (part[0][0], part[-1][1]) for turn in turns for part in split_long_turn(turn, max_duration)
    ]


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


def speaker_turns(
    video_path: str | os.PathLike,
    speech: list[tuple],
    pcm: np.ndarray,
    params: CollectParams,
    embed: Embedder | None = None,
    face_embed: FaceEmbedder | None = None,
    trace: list | None = None,
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
        if params.reaction_max_shot > 0:
            mark_reaction_shots(cuts, params.reaction_max_shot)
        # VAD widens speech by its pad, and a cut is seen only to within a frame step: a
        # pause counts as that much longer on each side (slack) when placing cuts
        slack = params.vad_speech_pad + 0.5 / params.face_fps
        pauses = list(zip([e for _, e in speech[:-1]], [s for s, _ in speech[1:]], strict=True))
        # a cut between two frames that also hold a pause is taken to be in the pause;
        # one inside speech with another person after it splits that speech
        inner = [
            c
            for c in cuts
            if not any(a - slack < c.t1 and b + slack > c.t0 for a, b in pauses) and c.ends_turn()
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
                c.t0 <= speech[i][0] + slack and c.t1 >= speech[i - 1][1] - slack and c.ends_turn()
                for c in cuts
            )

    pieces, ends_turn, changes = speech, other_face, []
    if params.subtitle_band:  # new names: other_face reads ``speech`` when called
        changes = band_changes(
            video_path, params.subtitle_band_fps, params.subtitle_band_fraction, params.timeout
        )
        log.info("%d changes of the subtitle band", len(changes))
        pieces, ends_turn = band_split(speech, changes, pcm, params, other_face)
    turns = assemble_turns(
        pieces,
        pcm,
        params.sample_rate,
        embed or resemblyzer_embedder(),
        params.merge_max_gap,
        params.merge_min_similarity,
        params.merge_min_speech,
        params.max_duration,
        ends_turn,
        trace,
    )
    if changes and params.subtitle_band_snap > 0:
        turns = snap_edges(turns, changes, params.subtitle_band_snap)
    return turns


def band_split(
    speech: list[tuple],
    changes: list[float],
    pcm: np.ndarray,
    params: CollectParams,
    other_face: Callable[[int], bool] | None,
) -> tuple[list[tuple], Callable[[int], bool] | None]:
    """``changes`` of burned-in subtitles (:func:`band_changes`: text appearing, going or
    changing in the bottom ``subtitle_band_fraction`` of the frame) as utterance bounds,
    where a video comes without a subtitle file: a change inside a speech segment (more
    than the VAD pad and half a sampling step from its ends) splits it at the quietest
    moment within that distance of the change, and a change in a pause ends the turn, as a
    cut to another person does. Returns the speech pieces and the ``other_face`` to give
    :func:`assemble_turns` (unchanged where the band never changes: no burned subtitles)."""
    if not changes:
        return speech, other_face
    slack = params.vad_speech_pad + 0.5 / params.subtitle_band_fps
    pieces, first = [], {}  # first: index in pieces -> the segment it begins
    for j, (s, e) in enumerate(speech):
        inside = sorted(
            _quietest(pcm, params.sample_rate, t - slack, t + slack)
            for t in changes
            if s + slack < t < e - slack
        )
        bounds = [s] + [m for m in inside if s + 0.2 < m < e - 0.2] + [e]
        first[len(pieces)] = j
        pieces += list(zip(bounds[:-1], bounds[1:], strict=True))

    def ends_turn(i: int) -> bool:
        a, b = pieces[i - 1][1], pieces[i][0]
        if any(a - slack <= t <= b + slack for t in changes):
            return True
        # the pauses between the segments keep their own evidence (cuts to another face)
        return bool(other_face and i in first and other_face(first[i]))

    return pieces, ends_turn


def snap_edges(turns: list[tuple], changes: list[float], window: float) -> list[tuple]:
    """Each turn's start and end moved to the nearest subtitle change within ``window``
    seconds (the cue's own times, as a subtitle file would give them: VAD is late on soft
    onsets under noise), never past the neighbouring turns' edges."""
    times = np.asarray(sorted(changes), dtype=np.float64)

    def nearest(t: float) -> float:
        if times.size == 0:
            return t
        k = int(np.argmin(np.abs(times - t)))
        return float(times[k]) if abs(times[k] - t) <= window else t

    out: list[tuple] = []
    for i, (s, e) in enumerate(turns):
        lo = out[-1][1] if out else 0.0
        hi = turns[i + 1][0] if i + 1 < len(turns) else float("inf")
        start, end = max(lo, nearest(s)), min(hi, nearest(e))
        out.append((start, end) if start < end else (s, e))
    return out


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


def segment_row(vid, video, source, start, end, text=None, reason=None, name=None) -> dict:
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
                rows.append(segment_row(vid, video, source, cue.start, cue.end, cue.text, reason))
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
        rows = [segment_row(vid, video, source, s, e) for s, e in speech]
        return table_from_rows(rows, COLLECT_SEGMENTS)
    except (VideoLoadingError, AudioLoadingError, SubtitleError, subprocess.TimeoutExpired) as exc:
        reason = str(exc)
        if isinstance(exc, subprocess.TimeoutExpired):
            reason = f"{video_path}: ffmpeg did not finish within {exc.timeout:.0f} s"
        row = segment_row(vid, video, source, 0.0, 0.0, reason=reason, name=vid)
        return table_from_rows([row], COLLECT_SEGMENTS)
