"""Collection face checks: YuNet backends compared on the same frames, and the face-identity
distances that set collect.identity_threshold.

    .venv/bin/python bench/collect_faces.py [raw-episodes folder]

Prints: ms per frame of each detector (yuface, opencv with ../shared/models' ONNX) on the
same frames (every frame sampled at 2 fps from the demo's raw episodes, plus the photos in
../shared/data/images), how often they agree on the face count, and dlib 128-d identity
distances for same-person and different-person pairs (the photos, and the demo's faces:
one face per speaker, sampled across each episode's ground-truth turns).
"""

from __future__ import annotations

import csv
import itertools
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.collect import dlib_face_embedder, iter_frames, limit_threads  # noqa: E402
from merlib.media import make_detector  # noqa: E402

SHARED = REPO.parent / "shared"
ONNX = SHARED / "models" / "face_detection_yunet_2026may.onnx"


def main(episodes: Path) -> None:
    limit_threads(1)  # both detectors single-threaded: a 2-core job slot
    frames, owners = [], []
    truth = list(csv.DictReader((episodes / "boundaries.csv").open(encoding="utf-8")))
    for video in sorted(episodes.glob("*.mp4")):
        turns = [r for r in truth if r["video"] == video.stem]
        for t, frame in iter_frames(video, 0.0, 1e6, 2.0):
            face = next(
                (r["face"] for r in turns if float(r["start"]) <= t < float(r["end"])), None
            )
            frames.append(frame)
            owners.append(face)
    photos = {}
    for p in sorted((SHARED / "data" / "images").glob("*.jpg")):
        img = cv2.imread(str(p))
        s = 640 / max(img.shape[:2])
        photos[p.stem] = cv2.resize(img, None, fx=s, fy=s) if s < 1 else img
    frames_all = frames + list(photos.values())
    print(f"{len(frames)} episode frames at 2 fps + {len(photos)} photos (<= 640 px)")
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

    def emb(img):
        faces = detect(img)
        if len(faces) != 1:
            return None
        f = faces[0]
        return embed(img, (f.x, f.y, f.w, f.h))

    vec = {k: emb(v) for k, v in photos.items()}
    print("photos:")
    for a, b in itertools.combinations([k for k, v in vec.items() if v is not None], 2):
        print(f"  {a} vs {b}: {np.linalg.norm(vec[a] - vec[b]):.3f}")
    by_face: dict[str, list] = {}
    rng = np.random.default_rng(0)
    for i in rng.permutation(len(frames)):
        if owners[i] and len(by_face.setdefault(owners[i], [])) < 4:
            v = emb(frames[i])
            if v is not None:
                by_face[owners[i]].append(v)
    same = [
        np.linalg.norm(a - b) for vs in by_face.values() for a, b in itertools.combinations(vs, 2)
    ]
    diff = [
        np.linalg.norm(a - b)
        for f, g in itertools.combinations(by_face, 2)
        for a in by_face[f]
        for b in by_face[g]
    ]
    print(f"demo faces: {len(by_face)} people")
    print(f"  same person: n={len(same)} max {max(same):.3f} p95 {np.percentile(same, 95):.3f}")
    print(f"  different:   n={len(diff)} min {min(diff):.3f} p5 {np.percentile(diff, 5):.3f}")
    for thr in (0.4, 0.45, 0.5, 0.55, 0.6):
        print(
            f"  threshold {thr}: same pairs split {np.mean(np.array(same) > thr):.1%}, "
            f"different pairs merged {np.mean(np.array(diff) <= thr):.1%}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "resources" / "demo" / "raw-episodes")
