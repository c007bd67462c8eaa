"""The report's HTML pages: tables rendered, headline numbers, clip counts, provenance."""

from __future__ import annotations

import pandas as pd

from merlib import report
from merlib.schemas import ACCOUNTING, table_from_rows

SUMMARY = {
    "cv": {
        "waf": 0.8809,
        "acc": 0.8833,
        "std": {"waf": 0.0527, "acc": 0.0486},
        "n_clips": 120,
        "folds": [{"fold": i} for i in range(5)],
        "selection": {"best_of_n_combinations": 6, "protocol": "best of N, optimistic"},
    },
    "test": {"waf": 0.8822, "acc": 0.8833, "n_clips": 60},
    "self_training": {
        "threshold": 0.9,
        "rounds": [{"round": 0, "n_pseudo": 0}, {"round": 1, "n_pseudo": 53}],
        "cv": {"waf": 0.9019, "acc": 0.9, "std": {"waf": 0.0488, "acc": 0.05}},
        "test": {"waf": 0.9330, "acc": 0.9333, "n_clips": 60},
    },
    "provenance": {
        "merflow_version": "0.1.0",
        "commit": {"sha": "abcdef1234567890", "dirty": False},
        "config_sha256": "f" * 64,
        "data_root": "resources/demo",
        "data_root_abs": "/x/resources/demo",
        "fused_features": [
            {
                "name": "egemaps",
                "modality": "audio",
                "backend": "opensmile",
                "model": "eGeMAPSv02",
                "revision": "opensmile==2.6.0",
                "options": {},
            }
        ],
        "seeds": {"seed": 2024},
        "created": "2026-01-01T00:00:00+00:00",
        "config": {"data_root": "resources/demo", "shards": 4},
    },
}
ROBUSTNESS = {
    "all": {
        "n_clips": 60,
        "waf_clean": 0.88,
        "acc_clean": 0.9,
        "waf_noisy": 0.71,
        "acc_noisy": 0.72,
        "waf_drop": 0.17,
    },
    "noisy_copies_in_training": 0,
}
OV = {"accuracy": 0.8917, "recall": 0.5639, "avg": 0.7278, "n_clips": 60, "grouping": "lexicon"}


NO_FACE = "media (visual): no face"


def _accounting():
    rows = [
        {"name": "a", "split": "labeled", "status": "trained", "detail": None},
        {"name": "b", "split": "labeled", "status": "excluded", "detail": NO_FACE},
        {"name": "c", "split": "unlabeled", "status": "fallback", "detail": NO_FACE},
        {"name": "d", "split": "unlabeled", "status": "predicted", "detail": None},
    ]
    return table_from_rows(rows, ACCOUNTING)


def test_headline_shows_cv_mean_std_test_self_training_and_noise():
    text = report.headline_fragment(SUMMARY, ROBUSTNESS, OV, _accounting())
    for expected in (
        "0.881 ± 0.053",
        "0.883 ± 0.049",
        "0.882",
        "0.902 ± 0.049",
        "0.933",
        "0.710",
        "0.892",
        "0.728",
        "lexicon",
        "best of 6 search combinations",
        "abcdef123456",
        "opensmile==2.6.0",
    ):
        assert expected in text, expected


def test_headline_without_test_labels_has_no_test_row():
    summary = {k: v for k, v in SUMMARY.items() if k not in ("test", "self_training")}
    rows = report.headline_rows(summary)
    assert [r[0] for r in rows] == ["Supervised, cross-validation"]


def test_clip_counts_give_status_per_split_and_the_most_common_problem():
    status, reasons = report.clip_counts(_accounting())
    assert ["labeled", "excluded", 1] in status and ["unlabeled", "fallback", 1] in status
    assert reasons == [["media (visual): no face", 2]]
    assert "labeled: 1 excluded, 1 trained" in report.clips_sentence(_accounting())
    assert ["unlabeled", "predicted", 1] in status


def test_summary_page_has_provenance_encoders_and_the_config():
    page = report.summary_page(SUMMARY, _accounting(), ROBUSTNESS, OV)
    assert page.startswith("<!DOCTYPE html>")
    assert "eGeMAPSv02" in page and "f" * 64 in page and "/x/resources/demo" in page
    assert "&quot;shards&quot;: 4" in page


def test_table_page_renders_every_row_and_escapes_cells():
    table = pd.DataFrame({"label": ["<sad>", "happy"], "f1": [0.81234, 0.9]})
    page = report.table_page(table, "Per class", "results/metrics/per_class.tsv")
    assert "&lt;sad&gt;" in page and "<sad>" not in page
    assert "0.812" in page and "2 rows" in page and "results/metrics/per_class.tsv" in page
