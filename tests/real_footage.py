"""A real-footage regression set for the collection stage, built from ../shared/data only.

Each episode is a sequence of speaker turns, one speaker each, as a TV dialogue cut into
shots: real faces (GRID talking heads) and real speech with its own pauses (LibriSpeech
read speech, or a GRID talker's own sentence said twice with a pause between), joined by
gaps of 0.2-2 s of room noise, with a hard shot cut at each change of speaker. One turn
(GRID talker s2) cuts from one of his clips to the other in mid-turn: a cut to the same
face does not end a turn. The truth table is what the construction implies: each turn's
speech span in the episode's seconds (the pieces are trimmed to their speech first).

The faces are GRID clips (Cooke, Barker, Cunningham, Shao 2006; CC BY 4.0, attribution in
../shared/data/video/LICENSES.md); the speech is LibriSpeech test-other (CC BY 4.0) and
GRID's. Nothing built here is committed: tests and benchmarks build it into a temporary
folder.

    .venv/bin/python tests/real_footage.py OUT_DIR     # writes the episodes and truth.csv
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SR = 16000  # audio sample rate of the built episodes
FPS = 25  # GRID's frame rate, kept
SIZE = (360, 288)  # GRID's frame size, kept

# LibriSpeech voices shown on GRID faces that do not speak their own sentence here
LIBRI_FACE = {"1688": "bbaf2n", "2414": "lbbc2a", "3080": "lwbsza"}


@dataclass(frozen=True)
class Turn:
    """One speaker turn: ``speech`` is a list of (kind, id) pieces said one after the other
    with ``pauses`` (seconds) between them; ``faces`` the GRID clip shown under each piece
    (a change of clip inside a turn is a cut to the same person)."""

    speaker: str
    speech: tuple
    faces: tuple
    pauses: tuple = ()


def _libri(utt: str) -> Turn:
    spk = utt.split("-")[0]
    return Turn(f"libri{spk}", (("libri", utt),), (LIBRI_FACE[spk],))


def _grid(clip: str, pause: float, second: str | None = None, speaker: str | None = None):
    second = second or clip
    return Turn(
        speaker or f"grid_{clip}", (("grid", clip), ("grid", second)), (clip, second), (pause,)
    )


# Speakers alternate, so each turn change is a change of speaker. Pauses inside GRID turns
# (0.3-1.2 s) overlap the gaps between turns (0.2-2 s): a gap alone cannot tell them apart.
EPISODES = {
    "dialogue_a": (
        [
            _libri("1688-142285-0000"),
            _grid("brbk7n", 0.6),
            _libri("3080-5032-0001"),
            _grid("lbax4n", 1.2),
            _libri("2414-128291-0001"),
            _grid("id2_vcd_swwp2s", 0.8, "pwij3p", "grid_s2"),
            _libri("1688-142285-0001"),
            _grid("lrwp9a", 0.3),
            _libri("3080-5032-0002"),
            _grid("sbia1a", 0.9),
        ],
        [0.2, 1.6, 0.5, 2.0, 0.3, 1.0, 0.7, 1.3, 0.4],
    ),
    "dialogue_b": (
        [
            _grid("sbwe5n", 1.0),
            _libri("2414-128291-0000"),
            _grid("swiz3n", 0.4),
            _libri("3080-5032-0000"),
            _grid("pwij3p", 0.7, "id2_vcd_swwp2s", "grid_s2"),
            _libri("1688-142285-0001"),
            _grid("lbax4n", 0.5),
            _libri("3080-5032-0001"),
            _grid("brbk7n", 1.1),
            _libri("2414-128291-0001"),
        ],
        [1.6, 0.25, 0.9, 0.6, 2.0, 0.35, 1.4, 0.2, 0.8],
    ),
}


def _ffmpeg() -> str:
    sys.path.insert(0, str(REPO / "workflow_scripts"))
    from merlib.av.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def _decode_audio(path: Path) -> np.ndarray:
    proc = subprocess.run(
        [_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-ac", "1"]
        + ["-ar", str(SR), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, np.float32).copy()


def _decode_frames(path: Path) -> np.ndarray:
    w, h = SIZE
    proc = subprocess.run(
        [_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0"]
        + ["-vf", f"scale={w}:{h},fps={FPS}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w, 3)


def trim_to_speech(wav: np.ndarray, floor_db: float = 35.0) -> np.ndarray:
    """``wav`` high-passed at 150 Hz (GRID's recordings hum) and without its leading and
    trailing silence: 20 ms frames more than ``floor_db`` dB under the loudest frame count
    as silence (on GRID's two aligned clips this lands within 0.1 s of the aligned words,
    but for a click 0.5 s before bbaf2n's first word)."""
    from scipy.signal import butter, sosfilt

    wav = sosfilt(butter(4, 150, "hp", fs=SR, output="sos"), wav).astype(np.float32)
    hop = SR // 50
    n = len(wav) // hop
    rms = np.sqrt((wav[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -floor_db)
    return wav[loud[0] * hop : (loud[-1] + 1) * hop]


def _piece(kind: str, ident: str, data: Path) -> np.ndarray:
    if kind == "libri":
        wav = _decode_audio(data / "audio" / "librispeech" / f"{ident}.flac")
    else:
        wav = _decode_audio(data / "video" / "grid" / f"{ident}.mpg")
    wav = trim_to_speech(wav)
    return wav / (np.abs(wav).max() + 1e-9) * 0.5  # one loudness for every piece


def _pingpong(n_frames: int, length: int, offset: int = 0) -> np.ndarray:
    """Frame indices that play a clip forward then backward (no jump, so no false cut)."""
    period = 2 * n_frames - 2
    i = (np.arange(length) + offset) % period
    return np.where(i < n_frames, i, period - i)


def build_episode(
    name: str,
    out_dir: Path,
    data: Path = SHARED_DATA,
    cuts: list | None = None,
    repeat: int = 1,
) -> list[dict]:
    """Write ``out_dir/<name>.mp4`` (H.264 360x288 25 fps, AAC 16 kHz) and return its
    truth rows (``video, start, end, speaker``, seconds); the times of its shot cuts are
    appended to ``cuts`` as (video, seconds, same person on both sides). ``repeat``
    plays the episode's turns that many times in one video (1 s apart): a long video
    with one continuous timeline, for throughput."""
    turns, gaps = EPISODES[name]
    turns, gaps = turns * repeat, (gaps + [1.0]) * repeat
    rng = np.random.default_rng(sum(map(ord, name)))
    clips: dict[str, np.ndarray] = {}
    audio: list[np.ndarray] = []
    shots: list[tuple[float, str]] = []  # (start time, GRID clip) of each shot
    truth = []
    pos = 0.6  # seconds of room tone before the first turn
    audio.append(np.zeros(int(pos * SR), np.float32))
    for i, turn in enumerate(turns):
        start = pos
        for j, ((kind, ident), face) in enumerate(zip(turn.speech, turn.faces, strict=True)):
            if j == 0:
                # cut to the new speaker at the middle of the gap, or on his first word
                cut = start if i % 2 else start - (gaps[i - 1] / 2 if i else start)
                shots.append((cut, face))
            elif face != turn.faces[j - 1]:
                shots.append((pos - turn.pauses[j - 1] / 2, face))  # same person, new shot
            wav = _piece(kind, ident, data)
            audio.append(wav)
            pos += len(wav) / SR
            if j < len(turn.pauses):
                audio.append(np.zeros(int(turn.pauses[j] * SR), np.float32))
                pos += int(turn.pauses[j] * SR) / SR
        truth.append({"video": f"{name}.mp4", "start": start, "end": pos, "speaker": turn.speaker})
        gap = gaps[i] if i < len(gaps) else 0.8
        audio.append(np.zeros(int(gap * SR), np.float32))
        pos += int(gap * SR) / SR
    track = np.concatenate(audio)
    track += rng.normal(0, 10 ** (-55 / 20), track.size).astype(np.float32)  # room tone
    n_frames = int(np.ceil(len(track) / SR * FPS))
    w, h = SIZE
    out_dir.mkdir(parents=True, exist_ok=True)
    wav_path = out_dir / f".{name}.f32"
    wav_path.write_bytes(track.astype("<f4").tobytes())
    video = out_dir / f"{name}.mp4"
    cmd = [_ffmpeg(), "-y", "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{w}x{h}", "-r", str(FPS), "-i", "-", "-f", "f32le", "-ar", str(SR)]
    cmd += ["-ac", "1", "-i", str(wav_path), "-c:v", "libx264", "-preset", "veryfast"]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-shortest", str(video)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    starts = [s for s, _ in shots] + [float("inf")]
    for k in range(n_frames):
        t = k / FPS
        shot = max(i for i in range(len(shots)) if starts[i] <= t or i == 0)
        face = shots[shot][1]
        if face not in clips:
            clips[face] = _decode_frames(data / "video" / "grid" / f"{face}.mpg")
        frames = clips[face]
        index = _pingpong(len(frames), 1, int((t - max(starts[shot], 0)) * FPS))[0]
        proc.stdin.write(frames[index].tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed building {video}")
    wav_path.unlink()
    if cuts is not None:
        person = {"pwij3p": "s2", "id2_vcd_swwp2s": "s2"}
        for (_, a), (t, b) in zip(shots[:-1], shots[1:], strict=True):
            cuts.append((video.name, t, person.get(a, a) == person.get(b, b)))
    return truth


def build_set(out_dir: Path, data: Path = SHARED_DATA, cuts: list | None = None) -> list[dict]:
    """Every episode of :data:`EPISODES` in ``out_dir``, plus ``truth.csv``; the truth."""
    truth = [row for name in EPISODES for row in build_episode(name, out_dir, data, cuts)]
    with (out_dir / "truth.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["video", "start", "end", "speaker"])
        writer.writeheader()
        writer.writerows(truth)
    return truth


def iou(a: tuple, b: tuple) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def score(kept: list[tuple], truth: list[tuple], min_iou: float = 0.7) -> tuple[float, float]:
    """Precision and recall of kept (video, start, end) against true turns at ``min_iou``."""

    def hit(a, b):
        return a[0] == b[0] and iou(a[1:], b[1:]) >= min_iou

    precision = sum(any(hit(k, t) for t in truth) for k in kept) / max(len(kept), 1)
    recall = sum(any(hit(k, t) for k in kept) for t in truth) / max(len(truth), 1)
    return precision, recall


if __name__ == "__main__":
    rows = build_set(Path(sys.argv[1]))
    for r in rows:
        print(
            f"{r['video']} {r['start']:.2f}-{r['end']:.2f} ({r['end'] - r['start']:.2f} s) "
            f"{r['speaker']}"
        )
