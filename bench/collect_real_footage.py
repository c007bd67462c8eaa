"""The collection stage on the real-footage regression set (tests/real_footage.py):
kept-clip boundaries against the true turns at IoU >= 0.7, and every candidate's fate.

    .venv/bin/python bench/collect_real_footage.py [key=value ...]

Builds the set from ../shared/data into a temporary folder, runs cut_segments and
filter_segments (the workflow's per-video steps, without the mp4 export) with the default
collect settings, overridden by ``key=value`` arguments (e.g. ``merge_max_gap=0.5``),
and prints each candidate with its decision and the true turn it overlaps most, then
precision and recall per episode and overall. First, the shot-cut measurement behind
collect.shot_cut_threshold: cut_score of every two consecutive frames of the
face_fps grid, within one shot against across a hard cut (to another person, or to the
same person in another clip). Then whether the two YuNet backends (collect.detector
opencv and yuface) count the same faces on every face_fps frame of the set.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

import real_footage

from merlib.collect.filtering import filter_segments
from merlib.collect.frames import cut_score, frame_signature, iter_frames
from merlib.collect.params import CollectParams
from merlib.collect.turns import cut_segments
from merlib.faces.detection import make_detector
from merlib.threads import limit_threads


def shot_cut_scores(folder: Path, cuts: list, params: CollectParams) -> None:
    scores: dict[str, list[float]] = {"within a shot": [], "cut, same person": []}
    scores["cut, other person"] = []
    for video in sorted(folder.glob("*.mp4")):
        prev = None
        for t, frame in iter_frames(video, 0.0, 1e6, params.face_fps):
            sig = frame_signature(frame)
            if prev is not None:
                near = [c for v, c, _ in cuts if v == video.name and prev[0] - 0.04 < c < t + 0.04]
                if any(min(abs(c - prev[0]), abs(c - t)) < 0.04 for c in near):
                    prev = (t, sig)
                    continue  # a cut on a sampling instant (within a frame): either side
                across = [same for v, c, same in cuts if v == video.name and prev[0] < c <= t]
                key = "within a shot"
                if across:
                    key = "cut, same person" if all(across) else "cut, other person"
                scores[key].append(cut_score(prev[1], sig))
            prev = (t, sig)
    for key, values in scores.items():
        v = np.array(values)
        print(
            f"cut score {key:18s} n={len(v):4d} min {v.min():.3f} median {np.median(v):.3f} "
            f"p99 {np.percentile(v, 99):.3f} max {v.max():.3f}"
        )
    thr = params.shot_cut_threshold
    within, other = np.array(scores["within a shot"]), np.array(scores["cut, other person"])
    print(
        f"shot_cut_threshold {thr}: within-shot pairs called a cut {np.mean(within >= thr):.2%}, "
        f"cuts to another person missed {np.mean(other < thr):.2%}"
    )


def detector_agreement(folder: Path, params: CollectParams) -> None:
    detectors = {
        kind: make_detector(kind, None, params.detector_score) for kind in ("opencv", "yuface")
    }
    counts: dict[str, list[int]] = {kind: [] for kind in detectors}
    seconds = dict.fromkeys(detectors, 0.0)
    for video in sorted(folder.glob("*.mp4")):
        for _, frame in iter_frames(video, 0.0, 1e6, params.face_fps):
            for kind, detect in detectors.items():
                tick = time.process_time()
                counts[kind].append(len(detect(frame)))
                seconds[kind] += time.process_time() - tick
    a, b = np.array(counts["opencv"]), np.array(counts["yuface"])
    print(
        f"face counts, {len(a)} frames: opencv and yuface agree on {np.mean(a == b):.2%} "
        f"(exactly one face: opencv {np.mean(a == 1):.2%}, yuface {np.mean(b == 1):.2%}); "
        + ", ".join(f"{k} {1000 * s / len(a):.1f} ms/frame CPU" for k, s in seconds.items())
    )


def main(overrides: list[str]) -> None:
    limit_threads(1)
    cfg = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in overrides)}
    params = CollectParams.from_config(cfg)
    print(params)
    all_kept, all_truth = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cuts: list = []
        truth = real_footage.build_set(Path(tmp), cuts=cuts)
        shot_cut_scores(Path(tmp), cuts, params)
        detector_agreement(Path(tmp), params)
        for video in sorted(Path(tmp).glob("*.mp4")):
            tick = time.perf_counter()
            segments = cut_segments(video, params)
            decisions, _ = filter_segments(video, segments, params)
            took = time.perf_counter() - tick
            turns = [(t["video"], t["start"], t["end"]) for t in truth if t["video"] == video.name]
            kept = []
            for r in decisions.to_pylist():
                best = max(turns, key=lambda t: real_footage.iou((r["start"], r["end"]), t[1:]))
                overlap = real_footage.iou((r["start"], r["end"]), best[1:])
                mark = "KEPT" if r["kept"] else "    "
                print(
                    f"  {mark} {r['start']:6.2f}-{r['end']:6.2f} best truth {best[1]:6.2f}-"
                    f"{best[2]:6.2f} IoU {overlap:.2f} {r['reason'] or ''}"
                )
                if r["kept"]:
                    kept.append((r["video"], r["start"], r["end"]))
            p, r = real_footage.score(kept, turns)
            print(
                f"{video.name}: {len(segments)} candidates, {len(kept)} kept, {len(turns)} true "
                f"turns: precision {p:.3f} recall {r:.3f} ({took:.1f} s)"
            )
            all_kept += kept
            all_truth += turns
    p, r = real_footage.score(all_kept, all_truth)
    print(
        f"overall: precision {p:.3f} recall {r:.3f} ({len(all_kept)} kept, {len(all_truth)} true)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
