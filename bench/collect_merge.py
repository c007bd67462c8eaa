"""The collection merge step (Silero VAD + Resemblyzer) measured on real speech only.

    .venv/bin/python bench/collect_merge.py

Inputs with true speaker turns: the real-footage regression set (tests/real_footage.py:
LibriSpeech and GRID speech, 20 turns, pauses inside turns of 0.1-1.3 s and gaps between
turns of 0.2-2 s), ../shared/data/audio/diarization (``.segments``: ``start end speaker``)
and a LibriSpeech sequence (3 speakers x 3 utterances, 0.3 s apart).

1. VAD settings (collect.vad_min_silence, collect.vad_speech_pad): segments per true turn,
   and how many true speaker changes fall inside one VAD segment (no pause left to cut at:
   only a shot cut can split it then).
2. With the default VAD settings, every pause between consecutive VAD segments, labelled
   by the truth (same speaker on both sides or not): its length, and the voice similarity
   as assemble_turns judges it (the turn so far, up to its last 10 s, against the
   next segment plus the ones right after it until collect.merge_min_speech seconds) next
   to the old pairwise one (the previous segment against the next), by the next segment's
   length. Then the error rates of thresholds, and the chosen values.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

import real_footage

from merlib.av.decode import decode_audio
from merlib.collect.params import CollectParams
from merlib.collect.turns import resemblyzer_embedder, vad_segments
from merlib.threads import limit_threads

DATA = REPO.parent / "shared" / "data" / "audio"
SR = 16000


def load_turns(path: Path) -> list[tuple]:
    turns = []
    for line in path.read_text().split("\n"):
        if line.strip():
            s, e, spk = line.split()[:3]
            turns.append((float(s), float(e), spk))
    return turns


def librispeech() -> tuple[np.ndarray, list[tuple]]:
    pieces, turns, pos = [], [], 0
    gap = np.zeros(int(0.3 * SR), np.float32)
    for path in sorted((DATA / "librispeech").glob("*.flac")):
        wav, _ = sf.read(path, dtype="float32")
        pieces += [wav, gap]
        turns.append((pos / SR, (pos + len(wav)) / SR, path.name.split("-")[0]))
        pos += len(wav) + gap.size
    return np.concatenate(pieces), turns


def inputs(tmp: Path) -> list[tuple[str, np.ndarray, list[tuple]]]:
    out = []
    truth = real_footage.build_set(tmp)
    for video in sorted(tmp.glob("*.mp4")):
        turns = [(t["start"], t["end"], t["speaker"]) for t in truth if t["video"] == video.name]
        out.append((video.name, decode_audio(video), turns))
    for wav_path in sorted((DATA / "diarization").glob("*.wav")):
        wav, sr = sf.read(wav_path, dtype="float32", always_2d=True)
        assert sr == SR, wav_path
        pcm = (np.clip(wav.mean(axis=1), -1, 1) * 32767).astype(np.int16)
        out.append((wav_path.name, pcm, load_turns(wav_path.with_suffix(".segments"))))
    wav, turns = librispeech()
    out.append(("librispeech sequence", (np.clip(wav, -1, 1) * 32767).astype(np.int16), turns))
    return out


def owner(seg: tuple, turns: list[tuple]) -> int:
    """Index of the true turn holding most of ``seg`` (-1: none)."""
    overlaps = [min(seg[1], e) - max(seg[0], s) for s, e, _ in turns]
    best = int(np.argmax(overlaps))
    return best if overlaps[best] > 0 else -1


def main() -> None:
    limit_threads(2)
    params = CollectParams()
    embed = resemblyzer_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        data = inputs(Path(tmp))
    print("1. VAD settings: segments, true turns, speaker changes inside one VAD segment")
    for min_silence in (0.1, 0.3, 0.5):
        for pad in (0.03, 0.1):
            n_seg = n_turns = hidden = changes = 0
            for _, pcm, turns in data:
                segs = vad_segments(pcm, SR, params.vad_threshold, min_silence, pad)
                n_seg += len(segs)
                n_turns += len(turns)
                for i in range(1, len(turns)):
                    if turns[i][2] == turns[i - 1][2]:
                        continue
                    changes += 1
                    t = turns[i][0]
                    hidden += any(s + 0.1 < t < e - 0.1 for s, e in segs)
            print(
                f"  min_silence {min_silence:.2f} s, speech_pad {pad:.2f} s: {n_seg} segments for "
                f"{n_turns} turns; {hidden}/{changes} speaker changes inside a segment"
            )
    print(
        f"2. pauses between VAD segments (vad_min_silence {params.vad_min_silence}, "
        f"speech_pad {params.vad_speech_pad})"
    )
    rows = []  # (same, gap, next length, turn-vs-next similarity, pairwise similarity)
    for _, pcm, turns in data:
        audio = pcm.astype(np.float32) / 32768
        segs = vad_segments(
            pcm, SR, params.vad_threshold, params.vad_min_silence, params.vad_speech_pad
        )

        def voice(pieces, audio=audio):
            v = embed(np.concatenate([audio[int(s * SR) : int(e * SR)] for s, e in pieces]))
            return v / np.linalg.norm(v)

        labels = [owner(s, turns) for s in segs]
        turn = [segs[0]] if segs else []
        for i in range(1, len(segs)):
            gap = segs[i][0] - segs[i - 1][1]
            same = labels[i] >= 0 and turns[labels[i]][2] == turns[labels[i - 1]][2]
            ahead, j = [segs[i]], i + 1
            while sum(e - s for s, e in ahead) < params.merge_min_speech and j < len(segs):
                if segs[j][0] - segs[j - 1][1] > params.merge_max_gap:
                    break
                ahead.append(segs[j])
                j += 1
            recent, total = [], 0.0
            for s, e in reversed(turn):
                recent.insert(0, (s, e))
                total += e - s
                if total >= 10:
                    break
            rows.append(
                (
                    same,
                    gap,
                    sum(e - s for s, e in ahead),
                    float(voice(recent) @ voice(ahead)),
                    float(voice([segs[i - 1]]) @ voice([segs[i]])),
                )
            )
            turn = turn + [segs[i]] if same else [segs[i]]
    r = np.array(rows, dtype=float)
    same, diff = r[r[:, 0] == 1], r[r[:, 0] == 0]
    for label, g in (("same speaker", same), ("different", diff)):
        print(
            f"  {label:12s} n={len(g):3d} pause p50 {np.median(g[:, 1]):.2f} max "
            f"{g[:, 1].max():.2f} min {g[:, 1].min():.2f} s; turn-vs-next similarity min "
            f"{g[:, 3].min():.3f} p10 {np.percentile(g[:, 3], 10):.3f} median "
            f"{np.median(g[:, 3]):.3f} p90 {np.percentile(g[:, 3], 90):.3f} max {g[:, 3].max():.3f}"
            f"; pairwise min {g[:, 4].min():.3f} max {g[:, 4].max():.3f}"
        )
        for lo, hi in ((0, 1), (1, 2), (2, 99)):
            b = g[(g[:, 2] >= lo) & (g[:, 2] < hi)]
            if len(b):
                print(
                    f"    next chunk {lo}-{hi if hi < 99 else 'more'} s: n={len(b):3d} "
                    f"turn-vs-next {b[:, 3].min():.3f}-{b[:, 3].max():.3f}, "
                    f"pairwise {b[:, 4].min():.3f}-{b[:, 4].max():.3f}"
                )
    print("  thresholds (pauses up to collect.merge_max_gap; voice alone, no video):")
    for max_gap in (0.5, 1.0, 1.5):
        for sim in (0.55, 0.6, 0.65, 0.7, 0.75):
            for col, name in ((3, "turn-vs-next"), (4, "pairwise")):
                fr = np.mean(~((same[:, 1] <= max_gap) & (same[:, col] >= sim)))
                fa = np.mean((diff[:, 1] <= max_gap) & (diff[:, col] >= sim))
                print(
                    f"    max_gap {max_gap:.1f} min_similarity {sim:.2f} {name:12s}: same-speaker "
                    f"pauses not merged {fr:.0%}, different-speaker pauses merged {fa:.0%}"
                )
    print(
        f"  chosen: merge_max_gap {params.merge_max_gap}, merge_min_similarity "
        f"{params.merge_min_similarity}, merge_min_speech {params.merge_min_speech}"
    )


if __name__ == "__main__":
    main()
