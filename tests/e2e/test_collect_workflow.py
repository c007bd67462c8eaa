"""End to end: the collect part of the workflow on the demo's raw episodes plus bad input.

One collection run per module (the demo corpus is copied from ./resources/demo when it has
been built there, else the workflow builds it first).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest
from e2e_helpers import config_path, overlay

from merlib.av.ffmpeg import ffmpeg_exe
from merlib.ingest import ingest_release
from merlib.schemas import COLLECT_CLIPS, read_table

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 900
TARGET = "results/collect/clips.parquet"

pytestmark = pytest.mark.e2e


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    cmd += ["--profile", str(REPO / "profiles" / "default"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=os.environ)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="module")
def collect_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("collect")
    built = REPO / "resources" / "demo"
    if (built / "raw-episodes" / "boundaries.csv").is_file():
        shutil.copytree(built, workdir / "resources" / "demo")  # keeps times: not rebuilt
    else:  # build only what collection needs: the episodes, and as few clips as allowed
        small = config_path("collect-demo-episodes")
        configs = ["--configfile", str(REPO / "config.yaml"), str(small)]
        snakemake(workdir, *configs, "--", "resources/demo/raw-episodes/boundaries.csv")
    videos = workdir / "videos"
    videos.mkdir()
    for path in (workdir / "resources" / "demo" / "raw-episodes").glob("episode_*"):
        shutil.copy2(path, videos / path.name)
    (videos / "empty.mp4").write_bytes(b"")
    (videos / "text.mp4").write_text("not a video\n")
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=s=64x48:d=3"]
        + ["-f", "lavfi", "-i", "sine=d=3", "-c:v", "libx264", "-c:a", "aac"]
        + [str(videos / "garbled.mp4")],
        check=True,
    )
    (videos / "garbled.srt").write_bytes(b"\x00\xffnot subtitles\x10" * 40)
    collect = overlay("collect", workdir / "collect.yaml", collect={"videos_dir": str(videos)})
    configs = ["--configfile", str(REPO / "config.yaml"), str(collect)]
    snakemake(workdir, *configs, "--", TARGET)
    return workdir, configs


def kept_and_truth(workdir: Path):
    clips = read_table(workdir / TARGET, COLLECT_CLIPS).to_pylist()
    kept = [(r["video"], r["start"], r["end"]) for r in clips if r["kept"]]
    with (workdir / "resources" / "demo" / "raw-episodes" / "boundaries.csv").open() as f:
        truth = [
            (f"{r['video']}.mp4", float(r["start"]), float(r["end"])) for r in csv.DictReader(f)
        ]
    return clips, kept, truth


def match(a, b) -> bool:
    return a[0] == b[0] and abs(a[1] - b[1]) <= 0.5 and abs(a[2] - b[2]) <= 0.5


def test_kept_clip_boundaries_match_the_truth(collect_run):
    clips, kept, truth = kept_and_truth(collect_run[0])
    # a true turn outside [2, 16] s must not be kept, so recall counts the others
    keepable = [t for t in truth if 2.0 <= t[2] - t[1] <= 16.0]
    precision = sum(any(match(k, t) for t in truth) for k in kept) / len(kept)
    recall = sum(any(match(k, t) for k in kept) for t in keepable) / len(keepable)
    print(
        f"collect on demo episodes: precision {precision:.3f}, recall {recall:.3f} "
        f"({len(kept)} kept, {len(keepable)} true turns of 2-16 s, {len(truth)} in all)"
    )
    assert precision >= 0.9 and recall >= 0.9


def test_every_candidate_has_a_decision_and_bad_videos_a_reason(collect_run):
    clips, _, _ = kept_and_truth(collect_run[0])
    assert all((r["reason"] is None) == r["kept"] for r in clips)
    by_video = {r["video"]: r for r in clips}
    assert "0 bytes" in by_video["empty.mp4"]["reason"]
    assert "not a readable video" in by_video["text.mp4"]["reason"]
    assert "garbled.srt" in by_video["garbled.mp4"]["reason"]
    sources = {r["video"]: r["source"] for r in clips}
    assert sources["episode_01.mp4"] == "subtitle" and sources["episode_02.mp4"] == "vad"


def test_output_root_is_a_release_with_each_kept_clip_and_its_text(collect_run):
    workdir = collect_run[0]
    clips, _, _ = kept_and_truth(workdir)
    root = workdir / "results" / "collect" / "release"
    kept = {r["name"]: r for r in clips if r["kept"]}
    assert {p.stem for p in (root / "video-unlabeled-with-test2noise").glob("*.mp4")} == set(kept)
    manifest = ingest_release(root, 4).manifest
    assert set(manifest.column("name").to_pylist()) == set(kept)
    with (collect_run[0] / "resources/demo/raw-episodes/episode_01.srt").open() as f:
        subtitle_text = f.read()
    texts = [r["text"] for r in kept.values() if r["video"] == "episode_01.mp4"]
    assert texts and all(t and t in subtitle_text for t in texts)


def test_rerun_after_an_interrupted_run_gives_the_same_clips(collect_run):
    workdir, configs = collect_run
    before = read_table(workdir / TARGET, COLLECT_CLIPS)
    # what a kill during episode_02's export leaves: its table missing, a clip half done
    (workdir / "results/collect/exported/episode_02.parquet").unlink()
    (workdir / TARGET).unlink()
    ep2 = pc.equal(before["video"], "episode_02.mp4")
    lost = before.filter(pc.and_(ep2, before["kept"])).column("clip")[0].as_py()
    clip = workdir / "results/collect/release" / lost
    clip.write_bytes(clip.read_bytes()[:1000])
    snakemake(workdir, *configs, "--", TARGET)
    assert read_table(workdir / TARGET, COLLECT_CLIPS).equals(before)
    assert clip.stat().st_size > 1000
