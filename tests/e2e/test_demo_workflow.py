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


def test_self_training_is_reported_beside_supervised_on_the_same_folds(demo_run):
    summary = json.loads((demo_run / "results" / "metrics" / "summary.json").read_text())
    st = summary["self_training"]
    assert set(st) >= {"cv", "test", "rounds", "threshold"}
    supervised = st["rounds"][0]
    assert supervised["n_pseudo"] == 0
    assert supervised["waf"] == pytest.approx(summary["cv"]["waf"], abs=1e-12)
    assert len(st["rounds"]) == 2 and st["rounds"][1]["n_pseudo"] > 0
    assert 0.0 <= st["test"]["waf"] <= 1.0 and st["test"]["n_clips"] == summary["test"]["n_clips"]


def test_search_keeps_the_best_combination_and_final_training_uses_it(demo_run):
    results = demo_run / "results"
    table = list(csv.DictReader(open(results / "search" / "search.tsv"), delimiter="\t"))
    assert len(table) == 6  # search.n_combinations of the embedded config
    selected = json.loads((results / "search" / "selected.json").read_text())
    assert selected["combination"] == int(table[0]["combination"])
    assert selected["waf"] == pytest.approx(max(float(r["waf"]) for r in table), abs=1e-5)
    folds = json.loads((results / "fusion" / "folds.json").read_text())
    assert folds["params"] == selected["params"]
    untimed = [[{k: v for k, v in f.items() if k != "seconds"} for f in r["folds"]]
               for r in (folds, selected)]  # fmt: skip
    assert untimed[0] == untimed[1]  # retraining reproduced the search run


def test_all_computes_only_the_fused_features_and_no_paper_table(demo_run):
    results = demo_run / "results"
    assert sorted(p.name for p in (results / "features").iterdir()) == ["egemaps", "fer", "use_m3"]
    assert not (results / "tables").exists()


def test_every_clip_has_a_transcript_and_accounting_names_its_source(demo_run):
    import pyarrow as pa

    from merlib.tables import TRANSCRIPTS

    paths = sorted((demo_run / "results" / "transcripts").glob("*.parquet"))
    transcripts = pa.concat_tables([read_table(p, TRANSCRIPTS) for p in paths])
    # the demo corpus transcribes every clip, so every text is the release's
    assert set(transcripts.column("source").to_pylist()) == {"release"}
    accounting = read_table(demo_run / "results" / "metrics" / "accounting.parquet", ACCOUNTING)
    used = [r for r in accounting.to_pylist() if r["status"] != "excluded"]
    assert {r["text_source"] for r in used} == {"release"}
    assert len(used) == transcripts.num_rows


def test_paper_tables_cover_every_feature_and_modality_combination(demo_run):
    # opt-in: the named target builds them (and every configured feature) on request
    proc = snakemake(demo_run, "--profile", str(REPO / "profiles" / "default"), "--cores", "2",
                     "paper_tables")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    tables = demo_run / "results" / "tables"
    unimodal = list(csv.DictReader(open(tables / "unimodal.tsv"), delimiter="\t"))
    # every configured feature, whisper_base too (two audio features: Top-1 and Top-2)
    modality = {"egemaps": "audio", "whisper_base": "audio", "fer": "visual", "use_m3": "text"}
    assert {r["feature"]: r["modality"] for r in unimodal} == modality
    for m in ("audio", "visual", "text"):
        rows = sorted((r for r in unimodal if r["modality"] == m), key=lambda r: int(r["rank"]))
        assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
        wafs = [float(r["waf"]) for r in rows]
        assert wafs == sorted(wafs, reverse=True), rows  # ranked by WAF within the modality
    multimodal = list(csv.DictReader(open(tables / "multimodal.tsv"), delimiter="\t"))
    assert [(r["combination"], r["top_n"]) for r in multimodal] == [
        ("A+V", "1"),
        ("A+V", "2"),
        ("A+T", "1"),
        ("A+T", "2"),
        ("V+T", "1"),
        ("A+V+T", "1"),
        ("A+V+T", "2"),
    ]
    assert all(0.0 <= float(r["waf"]) <= 1.0 for r in unimodal + multimodal)
    for png in ("tables/tables.png", "search/search.png", "metrics/per_class_f1.png"):
        assert (demo_run / "results" / png).stat().st_size > 1000, png


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


def test_ov_metrics_score_the_demo_ground_truth(demo_run):
    metrics = json.loads((demo_run / "results" / "ov" / "metrics.json").read_text())
    assert {"accuracy", "recall", "avg", "n_clips"} <= set(metrics)
    assert metrics["n_clips"] == len(unlabelled_names(demo_run))
    assert metrics["grouping"] == "lexicon" and metrics["unknown_predictions"] == []
    for key in ("accuracy", "recall", "avg"):
        assert 0.0 <= metrics[key] <= 1.0
    # fusion's labels, mapped through the lexicon, usually hit the class word
    assert metrics["accuracy"] > 0.5, metrics


def test_ov_baselines_side_by_side(demo_run):
    with open(demo_run / "results" / "ov" / "baselines.tsv", newline="") as f:
        rows = {(r["method"], r["grouping"]): r for r in csv.DictReader(f, delimiter="\t")}
    assert set(rows) == {
        (m, g) for m in ("empty", "random", "fusion") for g in ("none", "lexicon", "encoder")
    }
    assert all(float(rows["empty", g]["avg"]) == 0.0 for g in ("none", "lexicon", "encoder"))
    assert float(rows["fusion", "lexicon"]["avg"]) > float(rows["random", "lexicon"]["avg"])
    # 'surprise' (a label) only meets 'surprised' (a ground-truth word) through a grouping
    assert float(rows["fusion", "lexicon"]["avg"]) > float(rows["fusion", "none"]["avg"])


def test_ov_llm_rules_run_against_a_local_openai_compatible_server(demo_run):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            content = body["messages"][0]["content"]
            text = content if isinstance(content, str) else content[0]["text"]
            if "group the emotions" in text:
                reply = "[['sad', 'sorrow'], ['lonely']]"
            elif "clues" in text:
                reply = "['Sad', 'lonely']"
            else:
                reply = "She speaks slowly and softly; she seems sad."
            out = json.dumps({"choices": [{"message": {"content": reply}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/v1"
    try:
        proc = snakemake(
            demo_run,
            "--cores",
            "2",
            "--config",
            f"ov={{llm: {{model: fake, base_url: '{url}', modality: audio}}}}",
            "--",
            "results/ov/predictions/llm.csv",
            "results/ov/synonyms/llm/llm.json",
            timeout=600,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(demo_run / "results" / "ov" / "predictions" / "llm.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["name"] for r in rows} == unlabelled_names(demo_run)
    assert {r["openset"] for r in rows} == {"['sad', 'lonely']"}
    groupings = json.loads((demo_run / "results/ov/synonyms/llm/llm.json").read_text())
    assert all(g == [["sad", "sorrow"], ["lonely"]] for g in groupings.values())
    assert pq.read_table(demo_run / "results/ov/llm/rejects.parquet").num_rows == 0
