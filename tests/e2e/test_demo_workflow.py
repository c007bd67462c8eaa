"""End to end: the whole workflow on the demo corpus it makes itself, as `make demo` runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from merlib.labels import LABELS, PROB_COLUMNS
from merlib.tables import ACCOUNTING, FEATURE_FLAGS, PREDICTIONS, read_table

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800  # every snakemake call in tests runs under a timeout

pytestmark = pytest.mark.e2e


def snakemake(workdir: Path, *args: str, timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--configfile",
        str(REPO / "config.yaml"),
        "--directory",
        str(workdir),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=os.environ)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    proc = snakemake(workdir, "--profile", str(REPO / "profiles" / "default"), "--cores", "2")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return workdir


def unlabelled_names(workdir: Path) -> set[str]:
    folder = workdir / "resources" / "demo" / "video-unlabeled-with-test2noise"
    return {p.stem for p in folder.glob("*.mp4")}


def test_summary_has_waf_and_acc_far_above_chance(demo_run):
    summary = json.loads((demo_run / "results" / "metrics" / "summary.json").read_text())
    assert set(summary) >= {"cv", "test"}
    for split in ("cv", "test"):
        assert 0.0 <= summary[split]["waf"] <= 1.0 and 0.0 <= summary[split]["acc"] <= 1.0
        # chance is 1/6 on six balanced classes
        assert summary[split]["waf"] > 0.5, summary
    assert set(summary["cv"]["std"]) == {"waf", "acc"}


def test_submission_has_one_row_per_unlabelled_clip(demo_run):
    with open(demo_run / "results" / "submission" / "mer2024-semi-noise.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "discrete"]
    names = [r[0] for r in rows[1:]]
    assert len(names) == len(set(names))
    assert set(names) == unlabelled_names(demo_run)
    assert {r[1] for r in rows[1:]} <= set(LABELS)


def test_predictions_table_has_the_contract_columns(demo_run):
    path = demo_run / "results" / "predictions" / "unlabelled.parquet"
    table = read_table(path, PREDICTIONS)
    assert table.column_names == ["name", *PROB_COLUMNS, "discrete"]
    assert set(table.column("name").to_pylist()) == unlabelled_names(demo_run)
    rows = table.to_pylist()
    for row in rows:
        total = sum(row[c] for c in PROB_COLUMNS)
        assert abs(total - 1.0) < 1e-6
        assert row["discrete"] == max(LABELS, key=lambda label: row[f"p_{label}"])


def test_accounting_lists_every_clip_once_with_a_status(demo_run):
    table = read_table(demo_run / "results" / "metrics" / "accounting.parquet", ACCOUNTING)
    keys = [(r["split"], r["name"]) for r in table.to_pylist()]
    assert len(keys) == len(set(keys))
    labelled = {p.stem for p in (demo_run / "resources/demo/video-labeled").glob("*.mp4")}
    assert {n for s, n in keys if s == "labeled"} == labelled
    assert {n for s, n in keys if s == "unlabeled"} == unlabelled_names(demo_run)
    assert set(table.column("status").to_pylist()) <= {"trained", "predicted"}


def test_every_feature_folder_holds_name_and_embedding(demo_run):
    for feature in ("egemaps", "fer", "use_m3"):
        files = sorted((demo_run / "results" / "features" / feature).glob("*.parquet"))
        assert files, feature
        for path in files:
            assert pq.read_schema(path).names == ["name", "embedding"]
        flags = sorted((demo_run / "results" / "feature_flags" / feature).glob("*.parquet"))
        assert len(flags) == len(files), feature
        for path in flags:
            table = read_table(path, FEATURE_FLAGS)
            assert set(table.column("flag").to_pylist()) <= {"empty_transcription"}


def test_rerun_is_a_no_op_and_forcerun_reruns_only_downstream(demo_run):
    proc = snakemake(demo_run, "-n", "--quiet", "rules")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr
    proc = snakemake(demo_run, "-n", "--quiet", "rules", "--forcerun", "predict_unlabelled")
    out = proc.stdout + proc.stderr
    assert "predict_unlabelled" in out and "evaluate_predictions" in out
    assert "train_fusion" not in out and "extract_media" not in out


def test_a_lost_feature_shard_reruns_only_that_shard(demo_run):
    # What a killed extract_features job leaves (its output incomplete, then removed by
    # rerun-incomplete): only that (feature, shard) is extracted again.
    target = (
        "results/features/use_m3/"
        + sorted(p.name for p in (demo_run / "results" / "features" / "use_m3").glob("*.parquet"))[
            0
        ]
    )
    proc = snakemake(demo_run, "-n", "--forcerun", target)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert out.count("rule extract_features:") == 1, out[-3000:]
    shard = target.rsplit("/", 1)[1].removesuffix(".parquet")
    assert f"wildcards: feature=use_m3, shard={shard}" in out
    assert "rule extract_media:" not in out


def test_report_is_built(demo_run):
    proc = snakemake(demo_run, "--report", "results/report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (demo_run / "results" / "report.html").stat().st_size > 10_000


def test_bad_config_value_fails_before_any_job_runs(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "shards=0")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "shards" in out and "minimum" in out
    assert not (tmp_path / "results").exists()


def test_data_root_that_is_not_a_release_fails_with_a_sentence(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", f"data_root={tmp_path / 'nowhere'}")
    assert proc.returncode != 0
    assert "is not a folder. Please point data_root" in proc.stdout + proc.stderr
