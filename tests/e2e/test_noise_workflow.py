"""End to end: MER-NOISE on a small demo corpus, with real read speech as the noise corpus.

One run makes the noisy copy of the evaluation clips and, with noise augmentation on, of
the labelled clips; trains (search, final model, self-training) on the clean clips plus the
noisy copies of each fold's training clips; predicts both evaluation copies and scores
them. A second run with another shard layout (only as far as the noise table) must give
byte-identical noisy clips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pyarrow.parquet as pq
import pytest
from e2e_helpers import config_path, overlay

from merlib.noise.robustness import snr_check
from merlib.schemas import MANIFEST, NOISE, NOISE_REJECTS, PREDICTIONS, read_table

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800  # every snakemake call in tests runs under a timeout
MUSAN = REPO.parent / "shared" / "data" / "audio" / "librispeech"

pytestmark = pytest.mark.e2e


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    # a config file: --config would pass nested numbers as strings
    noise_test = overlay("noise", workdir / "noise-test.yaml", noise={"musan_dir": str(MUSAN)})
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--configfile", str(REPO / "config.yaml"), str(noise_test), "--directory", str(workdir)]
    cmd += ["--profile", str(REPO / "profiles" / "default"), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=os.environ)


@pytest.fixture(scope="module")
def noise_run(tmp_path_factory):
    if not MUSAN.is_dir():
        pytest.skip(f"real speech for the noise corpus not found at {MUSAN}")
    workdir = tmp_path_factory.mktemp("noise")
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return workdir


def unlabelled(workdir: Path) -> set[str]:
    folder = workdir / "resources" / "demo" / "video-unlabeled-with-test2noise"
    return {p.stem for p in folder.glob("*.mp4")}


def labelled(workdir: Path) -> set[str]:
    return {p.stem for p in (workdir / "resources" / "demo" / "video-labeled").glob("*.mp4")}


def test_noise_table_holds_every_evaluation_clip_with_its_draws(noise_run, monkeypatch):
    monkeypatch.chdir(noise_run)  # table paths are relative to the working directory
    table = read_table("results/noise/noise.parquet", NOISE)
    rejects = read_table("results/noise/rejects.parquet", NOISE_REJECTS)
    names = table.column("name").to_pylist() + rejects.column("name").to_pylist()
    assert sorted(names) == sorted(unlabelled(noise_run))
    assert table.num_rows > 0
    for row in table.to_pylist():
        assert 5 <= row["snr_db"] <= 10 and row["blur_factor"] in (1, 2, 4)
        for key in ("clean_audio", "noisy_audio", "video"):
            assert not os.path.isabs(row[key]) and Path(row[key]).is_file()


def test_noisy_wav_files_hold_the_drawn_snr(noise_run, monkeypatch):
    monkeypatch.chdir(noise_run)
    checks = snr_check(read_table("results/noise/noise.parquet", NOISE))
    for c in checks:
        measured = c["measured_scaled_db"] if c["rescaled"] else c["measured_db"]
        assert abs(measured - c["snr_db"]) < 0.1, c


def test_noisy_copy_keeps_frame_rate_and_frame_count(noise_run, monkeypatch):
    monkeypatch.chdir(noise_run)
    manifest = read_table("results/noise/manifest.parquet", MANIFEST)
    clean = read_table("results/ingest/manifest.parquet", MANIFEST)
    clean_path = dict(zip(clean["name"].to_pylist(), clean["path"].to_pylist(), strict=True))
    for row in manifest.to_pylist()[:6]:
        noisy = cv2.VideoCapture(str(Path("results/noise/clips") / row["path"]))
        orig = cv2.VideoCapture(str(Path("resources/demo") / clean_path[row["name"]]))
        for prop in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_HEIGHT):
            assert noisy.get(prop) == orig.get(prop)
        assert row["path"].split("/")[1] == "video-unlabeled-with-test2noise"


def test_robustness_compares_clean_and_noisy_per_snr_and_blur(noise_run):
    summary = json.loads((noise_run / "results" / "noise" / "robustness.json").read_text())
    noisy = read_table(noise_run / "results" / "noise" / "predictions.parquet", PREDICTIONS)
    n = read_table(noise_run / "results" / "noise" / "noise.parquet", NOISE).num_rows
    assert noisy.num_rows == n == summary["all"]["n_clips"]
    for key in ("waf_clean", "waf_noisy", "acc_clean", "acc_noisy"):
        assert 0.0 <= summary["all"][key] <= 1.0
    assert sum(s["n_clips"] for s in summary["by_snr_db"].values()) == n
    assert sum(s["n_clips"] for s in summary["by_blur_factor"].values()) == n
    assert set(summary["by_blur_factor"]) <= {"1", "2", "4"}
    tsv = (noise_run / "results" / "noise" / "robustness.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[:3] == ["group", "value", "n_clips"]


def test_another_shard_layout_gives_identical_noisy_clips(noise_run, tmp_path, monkeypatch):
    monkeypatch.chdir(noise_run)
    first = read_table("results/noise/noise.parquet", NOISE).to_pylist()
    other = tmp_path / "one-shard"
    other.mkdir()
    os.symlink(noise_run / "resources", other / "resources")
    # mtime only: the demo corpus found (made by the first run) is not made again
    args = ["results/noise/noise.parquet", "--rerun-triggers", "mtime"]
    proc = snakemake(other, *args, "--config", "shards=1")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    second = {
        r["name"]: r for r in pq.read_table(other / "results/noise/noise.parquet").to_pylist()
    }
    assert set(second) == {r["name"] for r in first}
    for row in first:
        again = second[row["name"]]
        assert again["seed"] == row["seed"] and again["noise_offset"] == row["noise_offset"]
        for key in ("video", "noisy_audio"):
            assert (other / again[key]).read_bytes() == (noise_run / row[key]).read_bytes()


def test_augmentation_makes_a_noisy_copy_of_every_labelled_clip(noise_run, monkeypatch):
    monkeypatch.chdir(noise_run)
    table = read_table("results/noise/train/noise.parquet", NOISE)
    rejects = read_table("results/noise/train/rejects.parquet", NOISE_REJECTS)
    names = table.column("name").to_pylist() + rejects.column("name").to_pylist()
    assert sorted(names) == sorted(labelled(noise_run))
    assert table.num_rows == len(names)  # the demo clips all decode
    evaluation = read_table("results/noise/noise.parquet", NOISE).column("name").to_pylist()
    assert not set(names) & set(evaluation)
    for row in table.to_pylist():
        assert 5 <= row["snr_db"] <= 10 and row["blur_factor"] in (1, 2, 4)
        assert Path(row["video"]).is_file() and Path(row["noisy_audio"]).is_file()
    manifest = read_table("results/noise/train/manifest.parquet", MANIFEST).to_pylist()
    assert {r["split"] for r in manifest} == {"labeled"}
    assert all(r["path"].split("/")[1] == "video-labeled" for r in manifest)


def test_augmented_training_keeps_each_copy_in_its_clips_fold(noise_run):
    results = noise_run / "results"
    copies = read_table(results / "noise/train/noise.parquet", NOISE).num_rows
    record = json.loads((results / "fusion/folds.json").read_text())
    assert record["noisy_copies"] == copies == record["n_clips"]
    for fold in record["folds"]:
        # every training clip brings its copy; no validation clip does
        assert fold["n_extra"] == record["n_clips"] - fold["n_val"]
        assert fold["n_train"] == 2 * fold["n_extra"]
    oof = pq.read_table(results / "fusion/oof.parquet").column("name").to_pylist()
    assert sorted(oof) == sorted(labelled(noise_run))  # validated on the clean clips only
    for path in (results / "search/combinations").glob("*.json"):
        assert json.loads(path.read_text())["noisy_copies"] == copies
    assert json.loads((results / "self_training/record.json").read_text())["noisy_copies"] == copies
    summary = json.loads((results / "noise/robustness.json").read_text())
    assert summary["noisy_copies_in_training"] == copies


def test_augmentation_without_a_noise_corpus_is_refused_before_any_job(tmp_path):
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "-n", "--directory", str(tmp_path)]
    cmd += ["--configfile", str(REPO / "config.yaml"), str(config_path("noise-without-musan"))]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode != 0
    assert "noise.augment_training needs noise.musan_dir" in proc.stdout + proc.stderr
