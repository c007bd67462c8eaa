"""Turn assembly and VAD measured on the broadcast regression set
(bench/broadcast_regression_set.py): real speech under music and kitchen noise at
5-15 dB, reaction-shot cuts inside turns, cuts at speaker changes.

    .venv/bin/python bench/collect_broadcast_turns.py [BUILT_DIR] [key=value ...]

1. VAD (collect.vad_threshold, vad_speech_pad): share of true speech (the truth turns)
   found, share of found speech outside any turn, and how far VAD ends land from the true
   turn ends, for each setting tried.
2. With the given settings, every pause (or cut-split) between consecutive speech pieces
   that assemble_turns judges by voice, labelled by the truth: the same turn on both
   sides or not, and whether the picture cuts to another face in it. The voice
   similarity (turn so far against the next piece) of each class, and the error rates of
   thresholds, for merge_min_similarity (no cut) and for a voice bar across a cut.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

import broadcast_regression_set as bset

from merlib.av.decode import decode_audio
from merlib.collect.params import CollectParams
from merlib.collect.turns import resemblyzer_embedder, speaker_turns, vad_segments
from merlib.threads import limit_threads


def _turn_at(truth: list[dict], a: float, b: float) -> int | None:
    """Index of the truth turn overlapping [a, b] most (None: none)."""
    best, overlap = None, 0.0
    for i, t in enumerate(truth):
        o = min(b, t["end"]) - max(a, t["start"])
        if o > overlap:
            best, overlap = i, o
    return best


def vad_table(folder: Path, truth: list[dict], settings: list[dict], sr: int) -> None:
    """Per background (music: film and conversation; kitchen noise: cremad and
    subtitled): the share of true speech (the truth turns, 10 ms frames) VAD finds, the
    share of what it finds that lies outside every turn, and the VAD span of the short
    CREMA-D turns against the truth (IoU)."""
    pcms = {v: decode_audio(v, sr, 600, from_zero=True) for v in sorted(folder.glob("*.mp4"))}
    music = {"film", "conversation"}
    for setting in settings:
        tally = {"music": [0, 0, 0], "noise": [0, 0, 0]}
        short_iou = []
        for video, pcm in pcms.items():
            turns = [t for t in truth if t["video"] == video.name]
            bed = "music" if turns[0]["kind"] in music else "noise"
            speech = vad_segments(
                pcm, sr, setting["threshold"], setting["min_silence"], setting["pad"]
            )
            grid = np.zeros(len(pcm) // 160, bool)
            for s, e in speech:
                grid[int(s * 100) : int(e * 100)] = True
            true = np.zeros_like(grid)
            for t in turns:
                true[int(t["start"] * 100) : int(t["end"] * 100)] = True
            tally[bed][0] += int((grid & true).sum())
            tally[bed][1] += int((~grid & true).sum())
            tally[bed][2] += int((grid & ~true).sum())
            for t in turns:
                if t["speaker"].startswith("cremad"):
                    inside = [(s, e) for s, e in speech if e > t["start"] and s < t["end"]]
                    span = (
                        (min(s for s, _ in inside), max(e for _, e in inside)) if inside else (0, 0)
                    )
                    short_iou.append(bset.real_footage.iou(span, (t["start"], t["end"])))
        parts = []
        for bed, (found, missed, outside) in tally.items():
            parts.append(
                f"{bed}: speech found {found / max(found + missed, 1):.1%}, "
                f"outside turns {outside / max(found + outside, 1):.1%}"
            )
        v = np.array(short_iou)
        print(
            f"VAD threshold {setting['threshold']} pad {setting['pad']}: "
            + "; ".join(parts)
            + f"; CREMA-D turns IoU min {v.min():.2f} median {np.median(v):.2f}"
        )


def pauses(folder: Path, truth: list[dict], params: CollectParams) -> list[dict]:
    embed = resemblyzer_embedder()
    out = []
    for video in sorted(folder.glob("*.mp4")):
        turns = [t for t in truth if t["video"] == video.name]
        pcm = decode_audio(video, params.sample_rate, 600, from_zero=True)
        speech = vad_segments(
            pcm,
            params.sample_rate,
            params.vad_threshold,
            params.vad_min_silence,
            params.vad_speech_pad,
        )
        trace: list = []
        speaker_turns(video, speech, pcm, params, embed, trace=trace)
        for d in trace:
            a = _turn_at(turns, d["prev_end"] - 0.3, d["prev_end"])
            b = _turn_at(turns, d["start"], d["start"] + 0.3)
            d["label"] = "noise" if a is None or b is None else ("same" if a == b else "different")
            d["video"] = video.name
            out.append(d)
    return out


def report(trace: list[dict]) -> None:
    for cut in (False, True):
        rows = [d for d in trace if d["other_face"] == cut and d["similarity"] is not None]
        print(
            f"-- pauses {'with a cut to another face' if cut else 'without a cut to another face'}"
        )
        sims = {
            k: np.array([d["similarity"] for d in rows if d["label"] == k])
            for k in ("same", "different")
        }
        for k, v in sims.items():
            if len(v):
                print(
                    f"   {k:9s} n={len(v):3d} min {v.min():.3f} p10 {np.percentile(v, 10):.3f} "
                    f"median {np.median(v):.3f} p90 {np.percentile(v, 90):.3f} max {v.max():.3f}"
                )
        for thr in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85):
            same, diff = sims["same"], sims["different"]
            split = np.mean(same < thr) if len(same) else 0.0
            joined = np.mean(diff >= thr) if len(diff) else 0.0
            print(
                f"   threshold {thr:.2f}: same turn split {split:.1%}, "
                f"different turns joined {joined:.1%}"
            )
    unjudged = [d for d in trace if d["similarity"] is None]
    print(
        f"-- {len(unjudged)} pauses with too little speech to judge by voice: "
        + ", ".join(f"{d['label']}{' cut' if d['other_face'] else ''}" for d in unjudged)
    )


def main(argv: list[str]) -> None:
    limit_threads(1)
    built = [a for a in argv if "=" not in a and a not in ("novad", "vadonly")]
    cfg = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in argv if "=" in a)}
    params = CollectParams.from_config(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(built[0]) if built else Path(tmp)
        if built:
            with (folder / "truth.csv").open() as f:
                truth = [
                    {**r, "start": float(r["start"]), "end": float(r["end"])}
                    for r in csv.DictReader(f)
                ]
        else:
            truth = bset.build_set(folder)
        settings = [
            {"threshold": th, "min_silence": params.vad_min_silence, "pad": pad}
            for th in (0.5, 0.35, 0.25)
            for pad in (0.03, 0.15, 0.25)
        ]
        if "novad" not in argv:
            vad_table(folder, truth, settings, params.sample_rate)
        if "vadonly" in argv:
            return
        report(pauses(folder, truth, params))


if __name__ == "__main__":
    main(sys.argv[1:])
