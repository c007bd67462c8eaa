"""Media extraction throughput: clips/s of one extract_media job, before and after, and
whether the two face detectors agree on the same frames.

    .venv/bin/python bench/media_throughput.py [clips folder ...] [--workers N]

Runs ``merlib.media.extract_shard`` (what rule extract_media runs) over every .mp4 of the
folders (default: the demo corpus's labelled and unlabelled clips under
resources/demo/) with ``N`` decode workers (default 2: the rule's threads) and
single-threaded detection, as the rule does, in one process, for:

- before: ``yuface`` detector, audio and frames decoded by separate ffmpeg processes
  (the code path before OpenCV's YuNet became the default; still the fallback path);
- each change alone (one ffmpeg process per clip; ``opencv`` detector);
- after: ``opencv`` detector, one ffmpeg process per clip (today's default).

Prints wall seconds, clips/s and the speed-up over "before" for each, then the face-count
agreement of the two detectors on the same sampled frames: the share of frames where both
give the same number of faces, and the share where both agree that there is a face.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib import media  # noqa: E402


def run(clips, workers, detector, together):
    params = media.MediaParams(detector=detector)
    patch = mock.patch.object(media, "decode_together", return_value=None)
    start = time.perf_counter()
    if together:
        _, faces, _ = media.extract_shard(clips, "/", params, workers=workers)
    else:
        with patch:
            _, faces, _ = media.extract_shard(clips, "/", params, workers=workers)
    return time.perf_counter() - start, faces


def agreement(workers: int, clips: list[dict]) -> None:
    params = media.MediaParams()
    counts = {}
    for kind in ("yuface", "opencv"):
        detect = media.make_detector(kind, None, params.detector_score)
        counts[kind] = []
        for clip in clips:
            decoded = media.decode_clip(clip["name"], Path("/") / clip["path"], params)
            counts[kind] += [len(detect(frame)) for frame in decoded.frames or []]
    a, b = counts["yuface"], counts["opencv"]
    same = sum(x == y for x, y in zip(a, b, strict=True))
    present = sum((x > 0) == (y > 0) for x, y in zip(a, b, strict=True))
    print(
        f"face counts on the same {len(a)} frames: equal on {same} ({100 * same / len(a):.1f} %),"
        f" face/no-face agreeing on {present} ({100 * present / len(a):.1f} %);"
        f" frames with a face: yuface {sum(x > 0 for x in a)}, opencv {sum(y > 0 for y in b)}"
    )


def main(argv: list[str]) -> None:
    workers = 2
    if "--workers" in argv:
        i = argv.index("--workers")
        workers = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    demo = REPO / "resources" / "demo"
    folders = [Path(a) for a in argv] or [
        demo / "video-labeled",
        demo / "video-unlabeled-with-test2noise",
    ]
    paths = sorted(p.resolve() for f in folders for p in f.glob("*.mp4"))
    if not paths:
        raise SystemExit(f"no .mp4 clips in {', '.join(map(str, folders))}")
    clips = [{"name": p.stem, "path": str(p.relative_to("/"))} for p in paths]
    media.limit_threads(1)
    print(f"{len(clips)} clips from {', '.join(map(str, folders))}; {workers} decode workers")
    run(clips[:2], workers, "yuface", True)  # warm up both detectors and the page cache
    run(clips[:2], workers, "opencv", True)
    rows = [
        ("before: yuface, separate decodes", "yuface", False),
        ("yuface, one decode", "yuface", True),
        ("opencv, separate decodes", "opencv", False),
        ("after: opencv, one decode", "opencv", True),
    ]
    base = None
    print(f"{'configuration':36s} {'wall s':>8s} {'clips/s':>8s} {'speed-up':>9s} {'crops':>6s}")
    for label, detector, together in rows:
        wall, faces = run(clips, workers, detector, together)
        base = base or wall
        rate = len(clips) / wall
        print(f"{label:36s} {wall:8.1f} {rate:8.2f} {base / wall:8.2f}x {faces.num_rows:6d}")
    agreement(workers, clips)


if __name__ == "__main__":
    main(sys.argv[1:])
