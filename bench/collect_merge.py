"""The collection merge step (Silero VAD + Resemblyzer) against true speaker turns.

    .venv/bin/python bench/collect_merge.py

On ../shared/data/audio/diarization (files with ``.segments`` ground-truth turns
``start end speaker``) and on a LibriSpeech sequence (3 speakers x 3 utterances, in
speaker order, 0.3 s apart): the voice similarity and gap of every pair of consecutive VAD
segments, split by whether the truth says one speaker or two, how the default thresholds
(collect.merge_max_gap, collect.merge_min_similarity) decide those pairs, and how the
merged segments compare with the true turns (purity: share of a segment's speech that
belongs to its main speaker; boundary hits: true turn changes within 0.5 s of a segment
boundary).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.collect import (  # noqa: E402
    CollectParams,
    limit_threads,
    merge_turns,
    resemblyzer_embedder,
    vad_segments,
)

DATA = REPO.parent / "shared" / "data" / "audio"


def load_turns(path: Path) -> list[tuple]:
    turns = []
    for line in path.read_text().split("\n"):
        if line.strip():
            s, e, spk = line.split()[:3]
            turns.append((float(s), float(e), spk))
    return turns


def librispeech() -> tuple[np.ndarray, list[tuple]]:
    pieces, turns, pos = [], [], 0
    gap = np.zeros(int(0.3 * 16000), np.float32)
    for path in sorted((DATA / "librispeech").glob("*.flac")):
        wav, _ = sf.read(path, dtype="float32")
        pieces += [wav, gap]
        turns.append((pos / 16000, (pos + len(wav)) / 16000, path.name.split("-")[0]))
        pos += len(wav) + gap.size
    return np.concatenate(pieces), turns


def speaker_share(seg: tuple, turns: list[tuple]) -> dict[str, float]:
    share: dict[str, float] = {}
    for s, e, spk in turns:
        overlap = min(seg[1], e) - max(seg[0], s)
        if overlap > 0:
            share[spk] = share.get(spk, 0.0) + overlap
    return share


def main() -> None:
    limit_threads(2)
    params = CollectParams()
    embed = resemblyzer_embedder()
    inputs = []
    for wav_path in sorted((DATA / "diarization").glob("*.wav")):
        wav, sr = sf.read(wav_path, dtype="float32", always_2d=True)
        assert sr == 16000, wav_path
        inputs.append(
            (wav_path.name, wav.mean(axis=1), load_turns(wav_path.with_suffix(".segments")))
        )
    inputs.append(("librispeech sequence", *librispeech()))
    same, diff = [], []
    for name, wav, turns in inputs:
        pcm = (np.clip(wav, -1, 1) * 32767).astype(np.int16)
        speech = vad_segments(pcm, 16000, params.vad_threshold)
        audio = pcm.astype(np.float32) / 32768
        vecs = [embed(audio[int(s * 16000) : int(e * 16000)]) for s, e in speech]
        for i in range(1, len(speech)):
            a = speaker_share(speech[i - 1], turns)
            b = speaker_share(speech[i], turns)
            if not a or not b:
                continue
            pair = (speech[i][0] - speech[i - 1][1], float(vecs[i - 1] @ vecs[i]))
            (same if max(a, key=a.get) == max(b, key=b.get) else diff).append(pair)
        merged = merge_turns(
            speech, pcm, 16000, embed, params.merge_max_gap, params.merge_min_similarity
        )
        purity = [
            max(sh.values()) / sum(sh.values()) for m in merged if (sh := speaker_share(m, turns))
        ]
        changes = [turns[i][0] for i in range(1, len(turns)) if turns[i][2] != turns[i - 1][2]]
        edges = [x for m in merged for x in m]
        hits = sum(any(abs(c - x) <= 0.5 for x in edges) for c in changes)
        print(
            f"{name}: {len(turns)} true turns ({len(changes)} speaker changes), "
            f"{len(speech)} VAD segments -> {len(merged)} merged; "
            f"mean purity {np.mean(purity):.2f}, min {np.min(purity):.2f}; "
            f"speaker changes on a segment boundary (0.5 s): {hits}/{len(changes)}"
        )
    for label, pairs in (("same speaker", same), ("different", diff)):
        g = np.array(pairs)
        print(
            f"{label}: {len(g)} consecutive pairs, similarity min {g[:, 1].min():.3f} "
            f"median {np.median(g[:, 1]):.3f} max {g[:, 1].max():.3f}; gap median "
            f"{np.median(g[:, 0]):.2f} s"
        )
    for gap in (0.3, 0.5, 1.0):
        for sim in (0.65, 0.7, 0.75, 0.8, 0.85):
            ok = [g <= gap and s >= sim for g, s in same]
            bad = [g <= gap and s >= sim for g, s in diff]
            print(
                f"max_gap {gap} min_similarity {sim}: same-speaker pairs merged "
                f"{np.mean(ok):.0%}, different-speaker pairs merged {np.mean(bad):.0%}"
            )


if __name__ == "__main__":
    main()
