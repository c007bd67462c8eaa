"""A broadcast-like regression set for the collection stage, built from ../shared/data only,
and the collection stage measured on it.

    .venv/bin/python bench/broadcast_regression_set.py build OUT_DIR [EPISODE ...]
    .venv/bin/python bench/broadcast_regression_set.py measure [key=value ...]

Four kinds of episode (640x360, 25 fps, H.264; AAC 16 kHz), each a dialogue of speaker
turns, one speaker each, the truth table being what the construction implies (each turn's
speech span, the pieces trimmed to their speech first):

- ``film``: Tears of Steel (real film footage: the over-the-shoulder two-shot with the
  back of a second head beside the speaker, a wide shot of a small standing man, a woman's
  close-up) with real speech laid on it (LibriSpeech read speech, the AMI meeting) and
  GRID talkers between, all under synthesised music at 5-15 dB SNR.
- ``cremad``: CREMA-D actor 1001 in six emotions (real face and voice, turns of 1.5-2.3 s)
  answered by GRID talkers, a second face cut off at the frame edge in every other
  shot, under the kitchen noise at 5-15 dB.
- ``conversation``: the two diarization recordings and their true turns (real
  conversation) laid on faces (the Tears of Steel man, GRID talkers), under music.
- ``subtitled``: GRID and LibriSpeech turns with burned-in subtitles (ffmpeg drawtext
  from the turns' timing), under the kitchen noise.

In every kind about half of the turns of 2.5 s or more are interrupted by a reaction shot:
a cut, inside the turn, to the listener (the Tears of Steel woman, another person) or to a
faceless cutaway (the Tears of Steel robot) for 0.6-1.0 s, and back: the turn goes on,
so the truth is the whole turn. Speaker changes are hard cuts (at the middle of the
gap or on the new speaker's first word).

``build OUT subtitled_b`` builds an episode outside the set instead (:func:`extra_episodes`:
a quick exchange in a two-shot with burned-in subtitles, for ``collect.subtitle_band``).

Nothing built here is committed. Sources and licences: ../shared/data/README.md and
video/LICENSES.md (Tears of Steel CC BY 3.0 Blender Foundation; CREMA-D ODbL/DbCL; GRID
and LibriSpeech and AMI CC BY 4.0; diarization recordings Apache-2.0; Speech Commands
noise CC BY 4.0).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

import real_footage

SHARED_DATA = REPO.parent / "shared" / "data"
SR = 16000
FPS = 25
W, H = 640, 360
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TOS = "video/broadcast/tears_of_steel_10s.mp4"
# shots of the Tears of Steel excerpt (seconds; the cuts are at 1.0, 2.75, 7.75 and 9.0)
TOS_SHOTS = {
    "man_ots": (2.85, 7.65),  # over-the-shoulder two-shot, the speaker's face right
    "man_wide": (1.05, 2.7),  # wide shot, a small standing man
    "woman": (9.25, 9.95),  # close-up, a listener
    "robot": (7.8, 8.95),  # a cutaway without a face
}


def _ffmpeg() -> str:
    from merlib.av.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def _decode_audio(path: Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    cmd = [_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-ac", "1"]
    cmd += ["-ar", str(SR), "-f", "f32le", "-"]
    wav = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.float32)
    return wav[int(start * SR) : None if end is None else int(end * SR)].copy()


def _decode_frames(path: Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    cmd = [_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0"]
    cmd += ["-vf", f"fps={FPS}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    probe = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, check=False
    ).stderr.decode()
    w, h = next(
        tuple(int(v) for v in tok.split("x"))
        for line in probe.splitlines()
        if "Video:" in line
        for tok in line.replace(",", " ").split()
        if tok.count("x") == 1 and all(p.isdigit() for p in tok.split("x"))
    )
    frames = np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)
    a, b = int(start * FPS), None if end is None else int(end * FPS)
    return frames[a:b]


def _fit(frames: np.ndarray) -> np.ndarray:
    """Frames scaled to 360 px high and centred on a dark 640x360 canvas."""
    import cv2

    out = np.full((len(frames), H, W, 3), 16, np.uint8)
    h, w = frames.shape[1:3]
    nw = min(W, int(round(w * H / h)))
    x0 = (W - nw) // 2
    for i, f in enumerate(frames):
        out[i, :, x0 : x0 + nw] = cv2.resize(f, (nw, H), interpolation=cv2.INTER_AREA)
    return out


def _with_edge_face(frames: np.ndarray, other: np.ndarray) -> np.ndarray:
    """A second person (another talker's frames at 0.75 scale) cut off by the right edge of
    the frame: half of the face visible, as a listener beside the speaker."""
    import cv2

    out = frames.copy()
    h, w = other.shape[1:3]
    sh, sw = int(h * 0.75), int(w * 0.75)
    x0, y0 = W - sw // 2 - 10, H - sh
    for i in range(len(out)):
        small = cv2.resize(other[i % len(other)], (sw, sh), interpolation=cv2.INTER_AREA)
        out[i, y0:, x0:] = small[:, : W - x0]
    return out


@dataclass
class Shot:
    """Where a turn's (or a reaction shot's) frames come from."""

    kind: str  # "tos", "grid", "cremad"
    ident: str
    edge: str | None = None  # a GRID clip whose face is shown cut off at the right edge


@dataclass
class Piece:
    """Speech said in a turn: an audio source and, optionally, a span of it (seconds)."""

    kind: str  # "grid", "cremad", "libri", "ami", "diar"
    ident: str
    span: tuple | None = None


@dataclass
class Turn:
    speaker: str
    pieces: list
    shot: Shot
    pauses: tuple = ()
    reaction: str | None = None  # "woman" (the listener) or "robot" (no face)
    text: str | tuple = ""  # a tuple: one subtitle cue per piece


class Sources:
    """Decoded media of ../shared/data, each decoded once."""

    def __init__(self, data: Path):
        self.data = data
        self._cache: dict = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def audio(self, p: Piece) -> np.ndarray:
        d = self.data
        path = {
            "grid": d / "video" / "grid" / f"{p.ident}.mpg",
            "cremad": d / "video" / "cremad" / f"{p.ident}",
            "libri": d / "audio" / "librispeech" / f"{p.ident}.flac",
            "ami": d / "audio" / "ami" / f"{p.ident}.wav",
            "diar": d / "audio" / "diarization" / f"{p.ident}.wav",
        }[p.kind]
        wav = self._get(("a", str(path)), lambda: _decode_audio(path))
        if p.span is not None:
            wav = wav[int(p.span[0] * SR) : int(p.span[1] * SR)]
        wav = real_footage.trim_to_speech(wav)
        return wav / (np.sqrt(np.mean(wav**2)) + 1e-9) * 0.08  # one speech loudness

    def frames(self, shot: Shot) -> np.ndarray:
        def make():
            d = self.data
            if shot.kind == "tos":
                a, b = TOS_SHOTS[shot.ident]
                raw = self._get(("tos",), lambda: _decode_frames(d / TOS))
                f = _fit(raw[int(a * FPS) : int(b * FPS)])
            elif shot.kind == "grid":
                f = _fit(_decode_frames(d / "video" / "grid" / f"{shot.ident}.mpg"))
            else:
                f = _fit(_decode_frames(d / "video" / "cremad" / f"{shot.ident}.flv"))
            if shot.edge:
                other = _decode_frames(d / "video" / "grid" / f"{shot.edge}.mpg")
                f = _with_edge_face(f, other)
            return f

        return self._get(("f", shot.kind, shot.ident, shot.edge), make)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Synthesised pop-like music: a chord progression of harmonic tones (4 beats a chord
    at 100 bpm), a bass line, a melody of eighth notes and a noise snare on beats 2 and 4."""
    t = np.arange(n) / SR
    beat = 60 / 100
    chords = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G (MIDI)

    def tone(midi, start, dur, amp, harmonics=5):
        a, b = int(start * SR), min(n, int((start + dur) * SR))
        if a >= n:
            return
        tt = np.arange(b - a) / SR
        f = 440 * 2 ** ((midi - 69) / 12)
        env = np.minimum(1, tt / 0.01) * np.exp(-tt / (dur * 0.8))
        sig = sum(np.sin(2 * np.pi * f * k * tt) / k for k in range(1, harmonics + 1))
        out[a:b] += amp * env * sig

    out = np.zeros(n)
    bar = 0
    while bar * 4 * beat < t[-1]:
        chord = chords[bar % len(chords)]
        t0 = bar * 4 * beat
        for m in chord:
            tone(m, t0, 4 * beat, 0.15)
        for b in range(4):
            tone(chord[0] - 12, t0 + b * beat, beat, 0.25, 3)
        for e in range(8):
            tone(
                int(rng.choice(chord)) + 12 + int(rng.choice([0, 2])),
                t0 + e * beat / 2,
                beat / 2,
                0.12,
                4,
            )
        for b in (1, 3):
            a = int((t0 + b * beat) * SR)
            k = min(n - a, int(0.12 * SR))
            if k > 0:
                out[a : a + k] += 0.3 * rng.normal(0, 1, k) * np.exp(-np.arange(k) / (0.03 * SR))
        bar += 1
    return out.astype(np.float32)


def _bed(kind: str, n: int, data: Path, rng: np.random.Generator) -> np.ndarray:
    if kind == "music":
        return _music(n, rng)
    noise = _decode_audio(data / "noise" / "doing_the_dishes.wav")
    start = int(rng.integers(0, max(1, len(noise) - n)))
    return np.resize(noise[start:], n)


# --- the episodes ----------------------------------------------------------------------

G = Piece  # short aliases for the tables below


def _grid_turn(clip, pause, shot=None, reaction=None, speaker=None, text=""):
    return Turn(
        speaker or f"grid_{clip}",
        [G("grid", clip), G("grid", clip)],
        shot or Shot("grid", clip),
        (pause,),
        reaction,
        text,
    )


def _cremad(emotion: str, edge: str | None = None) -> Turn:
    name = f"1001_DFA_{emotion}_XX"
    return Turn("cremad1001", [G("cremad", f"{name}.flv")], Shot("cremad", name, edge))


def _diar_turns(name: str, data: Path, faces: dict, reactions: dict) -> list[Turn]:
    rows = [line.split() for line in (data / "audio" / "diarization" / f"{name}.segments").open()]
    return [
        Turn(spk, [G("diar", name, (float(a), float(b)))], faces[spk], (), reactions.get(i))
        for i, (a, b, spk) in enumerate(rows)
    ]


def episodes(data: Path) -> dict:
    """name -> (kind, turns, gaps between turns, background, SNR dB per turn, subtitles)."""
    man = Shot("tos", "man_ots")
    eps = {
        "film_a": (
            "film",
            [
                Turn("libri1688", [G("libri", "1688-142285-0000")], man, (), "woman"),
                _grid_turn("brbk7n", 0.5),
                Turn("ami", [G("ami", "ES2011a.Headset-0-40s-46s")], Shot("tos", "man_wide")),
                _grid_turn("lbax4n", 0.8, reaction="robot"),
                Turn("libri1688", [G("libri", "1688-142285-0001")], man, (), "robot"),
                _grid_turn("sbia1a", 0.4, Shot("grid", "sbia1a", "lrwp9a")),
                Turn("libri3080", [G("libri", "3080-5032-0001")], man, (), "woman"),
            ],
            [0.3, 1.2, 0.6, 0.9, 0.25, 1.5],
            "music",
        ),
        "cremad_a": (
            "cremad",
            [
                _cremad("ANG"),
                _grid_turn("swiz3n", 0.6, Shot("grid", "swiz3n", "bbaf2n")),
                _cremad("DIS", edge="lbbc2a"),
                _grid_turn("lwbsza", 0.5, reaction="woman"),
                _cremad("FEA"),
                _grid_turn("pwij3p", 0.7, Shot("grid", "pwij3p", "sbwe5n")),
                _cremad("HAP", edge="brbk7n"),
                _grid_turn("lrwp9a", 0.4, reaction="robot"),
                _cremad("NEU"),
                _grid_turn("sbwe5n", 0.9),
                _cremad("SAD", edge="lbax4n"),
            ],
            [0.4, 1.0, 0.3, 0.7, 1.4, 0.5, 0.8, 0.35, 1.1, 0.6],
            "noise",
        ),
        "conversation_a": (
            "conversation",
            _diar_turns(
                "diarizationExample",
                data,
                {
                    "speakerA": Shot("grid", "bbaf2n"),
                    "speakerB": Shot("tos", "man_ots"),
                    "speakerC": Shot("grid", "lbbc2a", "swiz3n"),
                    "speakerD": Shot("grid", "sbwe5n"),
                },
                {0: "woman", 2: "robot", 4: "woman", 5: "robot"},
            ),
            [0.5, 0.3, 0.8, 0.4, 0.6, 1.0],
            "music",
        ),
        "subtitled_a": (
            "subtitled",
            [
                _grid_turn("bbaf2n", 0.6, reaction="woman", text="bin blue at f two now"),
                Turn(
                    "libri2414",
                    [G("libri", "2414-128291-0000")],
                    Shot("grid", "lbbc2a"),
                    (),
                    "robot",
                    "It is a long story, said he.",
                ),
                _grid_turn("swiz3n", 0.8, text="set white in z three now"),
                Turn(
                    "libri3080",
                    [G("libri", "3080-5032-0000")],
                    man,
                    (),
                    None,
                    "We shall see about that.",
                ),
                _grid_turn(
                    "lwbsza",
                    0.5,
                    Shot("grid", "lwbsza", "pwij3p"),
                    "robot",
                    text="lay white by s zero again",
                ),
                Turn(
                    "libri1688",
                    [G("libri", "1688-142285-0001")],
                    Shot("grid", "bbaf2n"),
                    (),
                    "woman",
                    "Come along, then.",
                ),
            ],
            [0.9, 0.4, 1.2, 0.3, 0.7],
            "noise",
        ),
    }
    return eps


def extra_episodes(data: Path) -> dict:
    """Episodes outside the regression set (built only when named: ``build OUT NAME``).

    ``subtitled_b``: a quick exchange in one over-the-shoulder two-shot (Tears of Steel),
    no cut between speakers, turns of 1.3-2.3 s (under ``merge_min_speech``, so the voice
    does not judge them) 0.3-0.5 s apart, with burned-in subtitles; the last turn is one
    speaker's two sentences shown as two cues (subtitles cut a turn into cues)."""
    man = Shot("tos", "man_ots")

    def one(kind, ident, speaker, text):
        return Turn(speaker, [G(kind, ident)], man, (), None, text)

    return {
        "subtitled_b": (
            "subtitled_twoshot",
            [
                one("grid", "bbaf2n", "grid_bbaf2n", "bin blue at f two now"),
                one("cremad", "1001_DFA_NEU_XX.flv", "cremad1001", "Dont forget a jacket."),
                one("grid", "swiz3n", "grid_swiz3n", "set white in z three now"),
                one("grid", "lwbsza", "grid_lwbsza", "lay white by s zero again"),
                one("cremad", "1001_DFA_HAP_XX.flv", "cremad1001", "Dont forget a jacket!"),
                one("grid", "pwij3p", "grid_pwij3p", "place white in j three please"),
                one("grid", "sbwe5n", "grid_sbwe5n", "set blue with e five now"),
                Turn(
                    "libri3080",
                    [G("libri", "3080-5032-0000"), G("libri", "3080-5032-0001")],
                    man,
                    (0.6,),
                    None,
                    ("We shall see about that.", "And so it went on."),
                ),
            ],
            [0.4, 0.3, 0.5, 0.35, 0.45, 0.3, 0.5],
            "noise",
        ),
    }


def build_episode(name: str, spec: tuple, out_dir: Path, src: Sources) -> list[dict]:
    """Write ``out_dir/<name>.mp4`` and return its truth rows."""
    kind, turns, gaps, background, *_ = spec
    rng = np.random.default_rng(sum(map(ord, name)))
    audio = [np.zeros(int(0.6 * SR), np.float32)]
    pos = 0.6
    shots: list[tuple[float, Shot]] = []  # (start, shot)
    truth, cues = [], []
    for i, turn in enumerate(turns):
        start = pos
        cut = start if i % 2 else (start - gaps[i - 1] / 2 if i else 0.0)
        shots.append((cut, turn.shot))
        for j, piece in enumerate(turn.pieces):
            wav = src.audio(piece)
            audio.append(wav)
            if isinstance(turn.text, tuple):
                cues.append((pos, pos + len(wav) / SR, turn.text[j]))
            pos += len(wav) / SR
            if j < len(turn.pauses):
                audio.append(np.zeros(int(turn.pauses[j] * SR), np.float32))
                pos += int(turn.pauses[j] * SR) / SR
        end = pos
        if turn.reaction and end - start >= 2.5:
            # a reaction shot inside the turn, 0.6-1.0 s, starting 35-55 % into it
            r0 = start + (end - start) * float(rng.uniform(0.35, 0.55))
            r1 = r0 + float(rng.uniform(0.6, 1.0))
            shots.append((r0, Shot("tos", turn.reaction)))
            shots.append((r1, turn.shot))
        truth.append(
            {
                "video": f"{name}.mp4",
                "kind": kind,
                "start": start,
                "end": end,
                "speaker": turn.speaker,
            }
        )
        if not isinstance(turn.text, tuple):
            cues.append((start, end, turn.text or turn.speaker))
        gap = gaps[i] if i < len(gaps) else 0.8
        audio.append(np.zeros(int(gap * SR), np.float32))
        pos += int(gap * SR) / SR
    speech = np.concatenate(audio)
    # background at 5-15 dB SNR against the speech, a new level every turn
    bed = _bed(background, len(speech), src.data, rng)
    gain = np.ones(len(speech), np.float32)
    p_speech = np.mean(np.concatenate([src.audio(p) for t in turns for p in t.pieces]) ** 2)
    p_bed = np.mean(bed**2) + 1e-12
    for i, row in enumerate(truth):
        snr = float(rng.uniform(5, 15))
        a = int((row["start"] - (gaps[i - 1] / 2 if i else 0.6)) * SR)
        gain[max(0, a) :] = np.sqrt(p_speech / p_bed / 10 ** (snr / 10))
        row["snr_db"] = round(snr, 1)
    track = speech + bed * gain
    track = track / max(1.0, np.abs(track).max() / 0.95)
    n_frames = int(np.ceil(len(track) / SR * FPS))
    out_dir.mkdir(parents=True, exist_ok=True)
    wav_path = out_dir / f".{name}.f32"
    wav_path.write_bytes(track.astype("<f4").tobytes())
    video = out_dir / f"{name}.mp4"
    cmd = [_ffmpeg(), "-y", "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{W}x{H}", "-r", str(FPS), "-i", "-", "-f", "f32le", "-ar", str(SR)]
    cmd += ["-ac", "1", "-i", str(wav_path)]
    if kind.startswith("subtitled"):
        cmd += ["-vf", _drawtext(cues)]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-b:a", "96k", "-shortest", str(video)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    starts = [s for s, _ in shots]
    shot_start = {}
    for k in range(n_frames):
        t = k / FPS
        idx = max([i for i, s in enumerate(starts) if s <= t] or [0])
        frames = src.frames(shots[idx][1])
        offset = int((t - max(starts[idx], 0)) * FPS)
        shot_start.setdefault(idx, k)
        proc.stdin.write(frames[real_footage._pingpong(len(frames), 1, offset)[0]].tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed building {video}")
    wav_path.unlink()
    return truth


def _drawtext(cues: list[tuple]) -> str:
    """Burned-in subtitles: one drawtext per cue, shown from its start to its end, white on
    a dark box at the bottom of the frame, as broadcast subtitles are."""
    parts = []
    for a, b, text in cues:
        safe = text.replace("\\", "").replace("'", "").replace(":", " ").replace(",", " ")
        parts.append(
            f"drawtext=fontfile={FONT}:text='{safe}':enable='between(t\\,{a:.3f}\\,{b:.3f})'"
            ":x=(w-text_w)/2:y=h-48:fontsize=24:fontcolor=white:box=1:boxcolor=black@0.6"
        )
    return ",".join(parts)


def build_set(out_dir: Path, data: Path = SHARED_DATA, names: list | None = None) -> list[dict]:
    """The episodes (all, or ``names``) in ``out_dir`` plus ``truth.csv``; the truth."""
    src = Sources(data)
    eps = episodes(data)
    default = list(eps)  # the regression set; extra episodes only when named
    eps |= extra_episodes(data)
    truth = []
    for name in names or default:
        truth += build_episode(name, eps[name], out_dir, src)
    with (out_dir / "truth.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["video", "kind", "start", "end", "speaker", "snr_db"])
        writer.writeheader()
        writer.writerows(truth)
    return truth


def run_collection(folder: Path, truth: list[dict], params, verbose: bool = True) -> dict:
    """cut_segments + filter_segments on each video of ``folder``; P/R per kind and overall
    (kept clips against the true turns at IoU >= 0.7), and the decision rows."""
    from merlib.collect.filtering import filter_segments
    from merlib.collect.turns import cut_segments

    per_kind: dict[str, tuple[list, list]] = {}
    rows_all = []
    seconds = 0.0
    for video in sorted(folder.glob("*.mp4")):
        tick = time.perf_counter()
        segments = cut_segments(video, params)
        decisions, _ = filter_segments(video, segments, params)
        seconds += time.perf_counter() - tick
        turns = [t for t in truth if t["video"] == video.name]
        spans = [(t["video"], t["start"], t["end"]) for t in turns]
        kept = []
        for r in decisions.to_pylist():
            rows_all.append(r)
            best = max(
                turns,
                key=lambda t: real_footage.iou((r["start"], r["end"]), (t["start"], t["end"])),
            )
            overlap = real_footage.iou((r["start"], r["end"]), (best["start"], best["end"]))
            if r["kept"]:
                kept.append((r["video"], r["start"], r["end"]))
            if verbose:
                mark = "KEPT" if r["kept"] else "    "
                print(
                    f"  {mark} {r['start']:6.2f}-{r['end']:6.2f} best truth {best['start']:6.2f}-"
                    f"{best['end']:6.2f} ({best['speaker']}) IoU {overlap:.2f} {r['reason'] or ''}"
                )
        p, r = real_footage.score(kept, spans)
        if verbose:
            print(
                f"{video.name}: {len(decisions)} candidates, {len(kept)} kept, {len(spans)} "
                f"true: precision {p:.3f} recall {r:.3f}"
            )
        k = turns[0]["kind"]
        per_kind.setdefault(k, ([], []))
        per_kind[k][0].extend(kept)
        per_kind[k][1].extend(spans)
    result = {"rows": rows_all, "seconds": seconds}
    for k, (kept, spans) in sorted(per_kind.items()):
        result[k] = real_footage.score(kept, spans) + (len(kept), len(spans))
    all_kept = [x for kept, _ in per_kind.values() for x in kept]
    all_truth = [x for _, spans in per_kind.values() for x in spans]
    result["overall"] = real_footage.score(all_kept, all_truth) + (len(all_kept), len(all_truth))
    return result


def main(argv: list[str]) -> None:
    import tempfile

    import yaml

    from merlib.collect.params import CollectParams
    from merlib.threads import limit_threads

    if argv[:1] == ["build"]:
        for r in build_set(Path(argv[1]), names=argv[2:] or None):
            print(
                f"{r['video']} {r['start']:.2f}-{r['end']:.2f} ({r['end'] - r['start']:.2f} s) "
                f"{r['speaker']} {r['snr_db']} dB"
            )
        return
    limit_threads(1)
    args = argv[1:] if argv[:1] == ["measure"] else argv
    built = [a for a in args if "=" not in a]  # a folder built before (``build``)
    cfg = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in args if "=" in a)}
    params = CollectParams.from_config(cfg)
    print(params)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(built[0]) if built else Path(tmp)
        if built:
            with (folder / "truth.csv").open() as f:
                truth = [
                    {**r, "start": float(r["start"]), "end": float(r["end"])}
                    for r in csv.DictReader(f)
                ]
        else:
            truth = build_set(folder)
        result = run_collection(folder, truth, params)
    total = sum(t["end"] - t["start"] for t in truth)
    for k, v in result.items():
        if k not in ("rows", "seconds"):
            print(f"{k:13s} precision {v[0]:.3f} recall {v[1]:.3f} ({v[2]} kept, {v[3]} true)")
    print(f"collection took {result['seconds']:.1f} s for {total:.0f} s of turns")


if __name__ == "__main__":
    main(sys.argv[1:])
