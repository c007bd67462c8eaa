"""Media extraction throughput: clips/s of one extract_media job, before and after, in one
run, and whether the versions give the same faces on the same frames.

    .venv/bin/python bench/media_throughput.py [clips folder ...] [--workers N] [--rounds R]

Runs ``merlib.media.shard.extract_shard`` (what rule extract_media runs) with its default
parameters over every .mp4 of the folders (default: the demo corpus's labelled and
unlabelled clips under resources/demo/) with ``N`` workers (default 2: the rule's threads)
and single-threaded detection, as the rule does, for three versions of ``merlib``:

- before: the code before OpenCV's YuNet (commit ``BEFORE``: yuface, audio and frames
  decoded by three ffmpeg processes per clip, detection in the main thread);
- previous: the default of commit ``PREVIOUS`` (OpenCV YuNet, one ffmpeg process per
  clip, detection still in the main thread);
- after: this working tree.

The two commits' ``merlib`` (and shipped models) are taken with ``git archive``. Each run
is its own Python process (a warm-up on two clips first, not timed); the versions take
turns, ``R`` rounds (default 2), so that a change in the machine's load hits each alike.
Prints, per version, the mean wall seconds and clips/s over the rounds, the speed-up over
"before", and the CPU seconds per clip (the process and its ffmpeg children), then the
2-core bound (clips / max(main-thread CPU, all CPU / 2): what an unloaded
2-core job could reach at most, a model, not a timing), then the agreement of the face
tables: for every (clip, sampled frame) with a face in any version,
whether all give the same number of faces, and whether "previous" and "after" give
byte-identical crops.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = "6047c6b^"  # the parent of "OpenCV's YuNet is the default detector"
PREVIOUS = "b4ab6f0"  # the last commit before detection moved into the worker threads


def export(commit: str, into: Path) -> Path:
    """``workflow_scripts/merlib`` and ``models/`` of ``commit`` under ``into``."""
    paths = ["workflow_scripts/merlib"]
    has_models = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}:models"],
        check=False,
        stderr=subprocess.DEVNULL,
    )
    if has_models.returncode == 0:
        paths.append("models")
    tar = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, *paths],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into / "workflow_scripts"


def child(root: str, clips_json: str, workers: int, out_json: str) -> None:
    """One timed extract_shard with the merlib under ``root`` (run in its own process)."""
    sys.path.insert(0, root)
    try:  # the media package (merlib/media/, merlib/threads.py)
        from merlib.media.params import MediaParams
        from merlib.media.shard import extract_shard
        from merlib.threads import limit_threads
    except ImportError:  # a commit from before it: one merlib/media.py
        from merlib.media import MediaParams, extract_shard, limit_threads

    clips = json.loads(Path(clips_json).read_text())
    limit_threads(1)
    extract_shard(clips[:2], "/", MediaParams(), workers=workers)  # warm-up
    own, kids = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    main, start = time.thread_time(), time.perf_counter()
    _, faces, rejects = extract_shard(clips, "/", MediaParams(), workers=workers)
    wall, main = time.perf_counter() - start, time.thread_time() - main
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - own + (after.ru_utime + after.ru_stime)
    cpu -= kids.ru_utime + kids.ru_stime
    rows = faces.select(["name", "frame", "n_faces", "crop"]).to_pylist()
    result = {
        "wall": wall,
        "cpu": cpu,
        "main": main,
        "rejects": rejects.num_rows,
        "faces": {f"{r['name']}/{r['frame']}": r["n_faces"] for r in rows},
        "crops": {f"{r['name']}/{r['frame']}": hash(r["crop"]) for r in rows},
    }
    Path(out_json).write_text(json.dumps(result))


def timed(root: Path, clips_json: Path, workers: int, tmp: Path) -> dict:
    out = tmp / "result.json"
    env = dict(os.environ, PYTHONHASHSEED="0")  # crop hashes comparable across processes
    subprocess.run(
        [sys.executable, __file__, "--child", str(root), str(clips_json), str(workers), str(out)],
        check=True,
        env=env,
    )
    return json.loads(out.read_text())


def agreement(results: dict[str, dict]) -> None:
    faces = {label: r["faces"] for label, r in results.items()}
    keys = sorted(set().union(*faces.values()))
    same = sum(len({f.get(k, 0) for f in faces.values()}) == 1 for k in keys)
    counts = ", ".join(f"{label} {len(f)}" for label, f in faces.items())
    print(
        f"face counts on the {len(keys)} sampled frames with a face in any version: equal in"
        f" all versions on {same} ({100 * same / max(1, len(keys)):.1f} %); face rows: {counts}"
    )
    prev, after = results["previous"]["crops"], results["after"]["crops"]
    identical = sum(prev.get(k) == v for k, v in after.items())
    print(f"crops byte-identical between previous and after: {identical} of {len(after)}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], int(argv[3]), argv[4])
        return
    options = {"--workers": 2, "--rounds": 2}
    for flag in options:
        if flag in argv:
            i = argv.index(flag)
            options[flag] = int(argv[i + 1])
            argv = argv[:i] + argv[i + 2 :]
    workers, rounds = options["--workers"], options["--rounds"]
    demo = REPO / "resources" / "demo"
    folders = [Path(a) for a in argv] or [
        demo / "video-labeled",
        demo / "video-unlabeled-with-test2noise",
    ]
    paths = sorted(p.resolve() for f in folders for p in f.glob("*.mp4"))
    if not paths:
        raise SystemExit(f"no .mp4 clips in {', '.join(map(str, folders))}")
    clips = [{"name": p.stem, "path": str(p.relative_to("/"))} for p in paths]
    print(f"{len(clips)} clips from {', '.join(map(str, folders))}; {workers} workers")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="merflow-media-bench-") as tmp:
        tmp = Path(tmp)
        clips_json = tmp / "clips.json"
        clips_json.write_text(json.dumps(clips))
        roots = {
            "before": export(BEFORE, tmp / "before"),
            "previous": export(PREVIOUS, tmp / "previous"),
            "after": REPO / "workflow_scripts",
        }
        runs: dict[str, list[dict]] = {label: [] for label in roots}
        for r in range(rounds):
            order = list(roots) if r % 2 == 0 else list(reversed(roots))
            for label in order:
                runs[label].append(timed(roots[label], clips_json, workers, tmp))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(
        f"{'version':10s} {'wall s':>8s} {'clips/s':>8s} {'speed-up':>9s} {'CPU s/clip':>11s}"
        f" {'main s/clip':>12s} {'2-core bound':>13s}"
    )
    base = base_bound = None
    for label, results in runs.items():
        wall, cpu, main = (
            sum(r[k] for r in results) / len(results) for k in ("wall", "cpu", "main")
        )
        # An unloaded 2-core job can go no faster than its busiest thread (the main thread
        # where detection runs there) nor than its CPU shared by two cores.
        bound = len(clips) / max(main, cpu / 2)
        base, base_bound = base or wall, base_bound or bound
        print(
            f"{label:10s} {wall:8.1f} {len(clips) / wall:8.2f} {base / wall:8.2f}x"
            f" {cpu / len(clips):11.3f} {main / len(clips):12.3f}"
            f" {bound:8.1f} ({bound / base_bound:.2f}x)"
        )
        print("           rounds (wall s): " + ", ".join(f"{r['wall']:.1f}" for r in results))
    agreement({label: results[0] for label, results in runs.items()})


if __name__ == "__main__":
    main(sys.argv[1:])
