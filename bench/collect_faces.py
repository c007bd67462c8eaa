"""Collection face checks on real media only: YuNet backends compared on the same frames,
and the face-identity distances that set collect.identity_threshold.

    .venv/bin/python bench/collect_faces.py

Frames: every GRID clip of ../shared/data/video/grid (10 real people; pwij3p and
id2_vcd_swwp2s are the same man) sampled at 2 fps as the collect stage samples them, and
the photos of ../shared/data/images. Prints ms per frame of each detector (yuface, and
opencv with ../shared/models' ONNX) and how often their face counts agree, then the dlib
128-d identity distances of same-person pairs (frames within one clip; the two clips of
GRID talker s2; obama/obama2) and different-person pairs (every pair of frames of two
different GRID people; obama or obama2 against biden), and for each threshold the share of
same-person pairs it splits (false reject) and of different-person pairs it merges (false
accept). The demo corpus is not used: its faces are one photo warped, always the same face.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.collect.frames import dlib_face_embedder, iter_frames
from merlib.faces.detection import make_detector
from merlib.threads import limit_threads

SHARED = REPO.parent / "shared"
ONNX = SHARED / "models" / "face_detection_yunet_2026may.onnx"
CHOSEN = 0.55  # config.yaml collect.identity_threshold
SAME_PERSON = {"pwij3p": "s2", "id2_vcd_swwp2s": "s2", "obama": "obama", "obama2": "obama"}


def rates(same: list[float], diff: list[float], thr: float) -> tuple[float, float]:
    """(false reject, false accept) of a distance threshold."""
    return float(np.mean(np.array(same) > thr)), float(np.mean(np.array(diff) <= thr))


def main() -> None:
    limit_threads(1)  # both detectors single-threaded: a collect job's share
    clips: dict[str, list[np.ndarray]] = {}
    for video in sorted((SHARED / "data" / "video" / "grid").glob("*.mpg")):
        clips[video.stem] = [f for _, f in iter_frames(video, 0.0, 3.0, 2.0)]
    photos = {}
    for p in sorted((SHARED / "data" / "images").glob("*.jpg")):
        img = cv2.imread(str(p))
        s = 640 / max(img.shape[:2])
        photos[p.stem] = cv2.resize(img, None, fx=s, fy=s) if s < 1 else img
    frames_all = [f for fs in clips.values() for f in fs] + list(photos.values())
    print(f"{len(frames_all) - len(photos)} GRID frames at 2 fps + {len(photos)} photos")
    counts = {}
    for kind, model in (("yuface", None), ("opencv", str(ONNX))):
        detect = make_detector(kind, model, 0.6)
        detect(frames_all[0])
        tick = time.perf_counter()
        counts[kind] = [len(detect(f)) for f in frames_all]
        ms = (time.perf_counter() - tick) * 1000 / len(frames_all)
        print(f"detector {kind}: {ms:.2f} ms per frame")
    agree = np.mean([a == b for a, b in zip(counts["yuface"], counts["opencv"], strict=True)])
    print(f"face counts agree on {agree:.1%} of frames")

    detect = make_detector("yuface")
    embed = dlib_face_embedder()
    tick, n = time.perf_counter(), 0
    vectors: dict[str, list[np.ndarray]] = {}
    for name, frames in [*clips.items(), *((k, [v]) for k, v in photos.items())]:
        for frame in frames:
            faces = detect(frame)
            if len(faces) == 1:
                f = faces[0]
                vectors.setdefault(name, []).append(embed(frame, (f.x, f.y, f.w, f.h)))
                n += 1
    print(f"dlib identity: {(time.perf_counter() - tick) * 1000 / max(n, 1):.1f} ms per face")
    person = {name: SAME_PERSON.get(name, name) for name in vectors}
    groups: dict[str, list[float]] = {"within a clip": [], "two clips, one person": []}
    diff = []
    for vs in vectors.values():
        pairs = itertools.combinations(vs, 2)
        groups["within a clip"] += [float(np.linalg.norm(a - b)) for a, b in pairs]
    for a, b in itertools.combinations(vectors, 2):
        d = [float(np.linalg.norm(x - y)) for x in vectors[a] for y in vectors[b]]
        if person[a] == person[b]:
            groups["two clips, one person"] += d
            print(f"  same person {a} vs {b}: min {min(d):.3f} max {max(d):.3f}")
        else:
            diff += d
    same = groups["within a clip"] + groups["two clips, one person"]
    for label, values in [*groups.items(), ("all same-person", same), ("different", diff)]:
        v = np.array(values)
        print(
            f"{label:22s} n={len(v):5d} min {v.min():.3f} p5 {np.percentile(v, 5):.3f} "
            f"median {np.median(v):.3f} p95 {np.percentile(v, 95):.3f} max {v.max():.3f}"
        )
    closest = sorted(
        (min(float(np.linalg.norm(x - y)) for x in vectors[a] for y in vectors[b]), a, b)
        for a, b in itertools.combinations(vectors, 2)
        if person[a] != person[b]
    )[:3]
    print("closest different people:", ", ".join(f"{a}/{b} {d:.3f}" for d, a, b in closest))
    for thr in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
        fr, fa = rates(same, diff, thr)
        print(f"  threshold {thr:.2f}: false reject {fr:.2%}, false accept {fa:.2%}")
    grid = np.round(np.arange(0.3, 0.8, 0.01), 2)
    errors = [sum(rates(same, diff, t)) for t in grid]
    ties = grid[np.isclose(errors, min(errors))]
    print(
        f"least total error {min(errors):.2%} for thresholds {ties.min():.2f}-{ties.max():.2f}; "
        f"chosen collect.identity_threshold {CHOSEN} "
        f"(false reject {rates(same, diff, CHOSEN)[0]:.2%}, "
        f"false accept {rates(same, diff, CHOSEN)[1]:.2%})"
    )


if __name__ == "__main__":
    main()
