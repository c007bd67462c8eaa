"""Face evidence on real film and broadcast-like footage, for collect.identity_threshold
and collect.main_face_ratio.

    .venv/bin/python bench/collect_broadcast_faces.py [BUILT_SET_DIR]

1. dlib identity distances between main faces (merlib.collect.frames.main_face) of frames
   4 per second: within each Tears of Steel shot (the man of the over-the-shoulder two-shot,
   the small standing man of the wide shot (taken to be another person),
   glasses and screen glare, turning his head; the woman's close-up with a focus pull),
   across CREMA-D actor 1001's six emotions, within GRID clips; and between different
   people (the man, the woman, the actor, the GRID talkers). Error rates of thresholds.
2. Detections per frame in the same frames and in the broadcast regression set's
   edge-face shots: the area of the second-largest face over the largest (what
   main_face_ratio separates): a listener cut off at the frame edge or the back of a head
   against two faces of one size.
"""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

import broadcast_regression_set as bset

from merlib.collect.frames import dlib_face_embedder, face_crop, main_face
from merlib.faces.detection import make_detector
from merlib.threads import limit_threads

DATA = REPO.parent / "shared" / "data"


def sources() -> dict[str, tuple[str, np.ndarray]]:
    """name -> (person, RGB frames at 4 fps)."""
    out = {}
    tos = bset._decode_frames(DATA / bset.TOS)
    for shot, person in (
        ("man_ots", "tos_man"),
        ("woman", "tos_woman"),
        ("man_wide", "tos_man_wide"),
    ):
        a, b = bset.TOS_SHOTS[shot]
        out[f"tos_{shot}"] = (person, tos[int(a * 25) : int(b * 25) : 6])
    for emo in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
        f = bset._decode_frames(DATA / "video" / "cremad" / f"1001_DFA_{emo}_XX.flv")
        out[f"cremad_{emo}"] = ("cremad1001", f[::8])
    for clip in ("bbaf2n", "brbk7n", "lbax4n", "lwbsza", "sbia1a", "swiz3n"):
        f = bset._decode_frames(DATA / "video" / "grid" / f"{clip}.mpg")
        out[f"grid_{clip}"] = (f"grid_{clip}", f[::6])
    return out


def built_ratios(folder: Path, detect) -> list[tuple]:
    """Second-largest / largest face area on every 2+-face frame (4 fps) of the built set."""
    from merlib.collect.frames import iter_frames

    out = []
    for video in sorted(folder.glob("*.mp4")):
        for t, frame in iter_frames(video, 0.0, 1e6, 4.0):
            dets = detect(frame)
            if len(dets) > 1:
                areas = sorted((f.w * f.h for f in dets), reverse=True)
                out.append((f"{video.stem}@{t:.2f}", areas[1] / areas[0]))
    return out


def main() -> None:
    limit_threads(1)
    detect = make_detector("opencv", None, 0.6)
    embed = dlib_face_embedder()
    faces = []  # (source, person, vector)
    ratios = []
    for name, (person, frames) in sources().items():
        found = 0
        for rgb in frames:
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])
            dets = detect(bgr)
            if len(dets) > 1:
                areas = sorted((f.w * f.h for f in dets), reverse=True)
                ratios.append((name, areas[1] / areas[0]))
            face = main_face(dets, 0.5)
            if face is None:
                continue
            found += 1
            faces.append((name, person, embed(*face_crop(bgr, face))))
        print(f"{name:16s} {person:12s} {len(frames):3d} frames, main face in {found}")
    same, diff, same_where = [], [], {}
    for (na, pa, va), (nb, pb, vb) in combinations(faces, 2):
        d = float(np.linalg.norm(va - vb))
        if pa == pb:
            same.append(d)
            key = pa if na == nb else f"{pa} across shots/clips"
            same_where.setdefault(key, []).append(d)
        else:
            diff.append(d)
    same, diff = np.array(same), np.array(diff)
    for key, v in sorted(same_where.items()):
        v = np.array(v)
        print(
            f"same person {key:32s} n={len(v):4d} median {np.median(v):.3f} "
            f"p95 {np.percentile(v, 95):.3f} max {v.max():.3f}"
        )
    print(
        f"same person, all   n={len(same):5d} median {np.median(same):.3f} "
        f"p95 {np.percentile(same, 95):.3f} max {same.max():.3f}"
    )
    print(
        f"different people   n={len(diff):5d} min {diff.min():.3f} p5 "
        f"{np.percentile(diff, 5):.3f} median {np.median(diff):.3f}"
    )
    for thr in (0.5, 0.55, 0.6, 0.65, 0.7):
        print(
            f"identity_threshold {thr:.2f}: same person rejected {np.mean(same > thr):.2%}, "
            f"different people accepted {np.mean(diff <= thr):.2%}"
        )
    if len(sys.argv) > 1:
        ratios += built_ratios(Path(sys.argv[1]), detect)
    r = np.array([v for _, v in ratios])
    print(f"frames with 2+ detections (score >= 0.6): {len(r)}; second-largest / largest area")
    if len(r):
        print(
            f"   min {r.min():.3f} median {np.median(r):.3f} p95 {np.percentile(r, 95):.3f} "
            f"max {r.max():.3f}; above 0.5 (no main face): {np.mean(r >= 0.5):.1%}"
        )


if __name__ == "__main__":
    main()
