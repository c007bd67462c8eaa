"""Writing the demo corpus: the plan synthesised, rendered on worker threads, and the
CSV, SRT and README files, built in a temporary folder renamed into place."""

from __future__ import annotations

import concurrent.futures
import csv
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .face_assets import load_face_assets
from .planning import plan_clips, plan_episode
from .spec import EPISODES_DIR, LABELLED_DIR, UNLABELLED_DIR
from .speech import synthesize_batch
from .timeline import Placed, render_clip, render_episode

README = """\
merflow demo corpus: SYNTHETIC data, for wiring and regression tests, not a benchmark.

Made by merlib.demo.make_demo_corpus(seed={seed}, clips_per_class={clips_per_class},
unlabelled_clips={unlabelled_clips}, episodes={episodes}).

Faces are scikit-image sample photos (astronaut, camera, lfw_subset) warped into
expressions; speech is espeak-ng Mandarin with per-emotion prosody; texts come from
per-emotion phrase banks. Cue strengths are random and about a quarter of the emotional
clips have one uninformative modality. Scores measured on this corpus say that the
pipeline works, not how good a method is.

Layout (MER2024 release layout):
  video-labeled/<name>.mp4, label-disdim.csv (name,discrete)
  video-unlabeled-with-test2noise/<name>.mp4
  label-transcription.csv (name,chinese) for every clip
  test-labels.csv (name,discrete): truth of the unlabelled clips (real releases lack it)
  raw-episodes/episode_NN.mp4 (>= {episode_min_s:g} s each, several speakers and faces),
  raw-episodes/episode_01.srt, raw-episodes/boundaries.csv
  (video,start,end,speaker,face,discrete,text: speech boundaries in seconds)
"""


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _write_srt(path: Path, placed: Sequence[Placed]) -> None:
    blocks = [
        f"{i}\n{_srt_time(p.start)} --> {_srt_time(p.end)}\n{p.segment.text}\n"
        for i, p in enumerate(placed, start=1)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")


_T0 = time.monotonic()


def _log(message: str) -> None:
    print(f"[demo {time.monotonic() - _T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def make_demo_corpus(
    out_dir: str | Path,
    seed: int = 7,
    clips_per_class: int = 20,
    unlabelled_clips: int = 60,
    episodes: int = 3,
    workers: int = 2,
    *,
    episode_min_s: float = 60.0,
) -> None:
    """Write the demo corpus to ``out_dir`` (replaced if it exists), deterministically.

    The corpus is built in a temporary sibling folder and renamed into place at the end,
    so a killed run never leaves a half corpus that looks complete. ``workers`` threads
    render clips in parallel; the output does not depend on it. ``episode_min_s`` is the
    minimum episode length (60 s; tests use less).
    """
    if clips_per_class < 1 or unlabelled_clips < 0 or episodes < 0:
        raise ValueError(
            "clips_per_class must be >= 1 and unlabelled_clips, episodes >= 0; got "
            f"{clips_per_class}, {unlabelled_clips}, {episodes}"
        )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # leftovers of killed runs (building into one out_dir concurrently is not supported)
    leftover = re.compile(rf"\.{re.escape(out_dir.name)}\.(tmp|old)-\d+")
    for stale in out_dir.parent.iterdir():
        if leftover.fullmatch(stale.name) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    t0 = time.monotonic()
    try:
        for sub in (LABELLED_DIR, UNLABELLED_DIR, EPISODES_DIR):
            (tmp / sub).mkdir(parents=True)
        _build(tmp, seed, clips_per_class, unlabelled_clips, episodes, workers, episode_min_s)
        (tmp / "README.txt").write_text(
            README.format(
                seed=seed,
                clips_per_class=clips_per_class,
                unlabelled_clips=unlabelled_clips,
                episodes=episodes,
                episode_min_s=episode_min_s,
            ),
            encoding="utf-8",
        )
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"wrote {out_dir} in {time.monotonic() - t0:.1f} s")


def _build(
    root: Path,
    seed: int,
    clips_per_class: int,
    unlabelled_clips: int,
    episodes: int,
    workers: int,
    episode_min_s: float,
) -> None:
    _log("loading faces")
    assets = load_face_assets()
    faces = {a.face_id: a for a in assets}
    face_ids = [a.face_id for a in assets]
    _log(f"{len(face_ids)} faces usable")
    # Threads, not processes: the work is OpenCV and numpy (which release the GIL) and
    # ffmpeg (a process of its own); forking a process that has used OpenCV's thread pool
    # can hang the child, and spawned workers would re-run a Snakemake script's top level.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, int(workers)))
    try:
        clips = plan_clips(seed, clips_per_class, unlabelled_clips, face_ids)
        # more segments than needed (speech is never under 1.2 s); the unused are dropped
        n_segments = int(np.ceil(episode_min_s / 1.2)) + 3
        episode_plans = [
            plan_episode(i, seed, face_ids, n_segments) for i in range(1, episodes + 1)
        ]
        requests = [(p.text, p.voice, p.prosody) for p in clips]
        for segments in episode_plans:
            requests += [(s.text, s.voice, s.prosody) for s in segments]
        speech = synthesize_batch(requests)
        _log(f"synthesized {len(speech)} utterances")
        futures = {}
        offset = len(clips)
        for i, segments in enumerate(episode_plans, start=1):  # longest jobs first
            path = root / EPISODES_DIR / f"episode_{i:02d}.mp4"
            ep_seed = int(np.random.default_rng([seed, 4, i]).integers(2**63))
            futures[("episode", i)] = pool.submit(
                render_episode,
                segments,
                speech[offset : offset + len(segments)],
                {p.face_id: faces[p.face_id] for p in segments},
                ep_seed,
                episode_min_s,
                path,
            )
            offset += len(segments)
        for plan, audio in zip(clips, speech, strict=False):
            path = root / plan.folder / f"{plan.name}.mp4"
            futures[("clip", plan.name)] = pool.submit(
                render_clip, plan, audio, faces[plan.face_id], path
            )
        for future in futures.values():
            future.result()  # raise the first failure
        _log(f"rendered {len(clips)} clips and {episodes} episodes")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    labelled = [p for p in clips if p.folder == LABELLED_DIR]
    unlabelled = [p for p in clips if p.folder == UNLABELLED_DIR]
    _write_csv(
        root / "label-disdim.csv", ("name", "discrete"), [(p.name, p.label) for p in labelled]
    )
    _write_csv(
        root / "test-labels.csv", ("name", "discrete"), [(p.name, p.label) for p in unlabelled]
    )
    _write_csv(
        root / "label-transcription.csv", ("name", "chinese"), [(p.name, p.text) for p in clips]
    )
    rows = []
    for i in range(1, episodes + 1):
        _duration, placed = futures[("episode", i)].result()
        video = f"episode_{i:02d}"
        for p in placed:
            s = p.segment
            rows.append(
                (video, f"{p.start:.3f}", f"{p.end:.3f}", s.speaker, s.face_id, s.label, s.text)
            )
        if i == 1:
            _write_srt(root / EPISODES_DIR / f"{video}.srt", placed)
    _write_csv(
        root / EPISODES_DIR / "boundaries.csv",
        ("video", "start", "end", "speaker", "face", "discrete", "text"),
        rows,
    )
