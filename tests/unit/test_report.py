"""The report's HTML pages: tables rendered, headline numbers, clip counts, provenance."""

from __future__ import annotations

import re

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


# --- the first page: figures per track, pictures in the page, provenance in one line --------

ROBUSTNESS_BY = ROBUSTNESS | {
    "by_snr_db": {
        "10": {
            "n_clips": 30,
            "waf_clean": 0.9,
            "acc_clean": 0.9,
            "waf_noisy": 0.8,
            "acc_noisy": 0.8,
            "waf_drop": 0.1,
        },
        "5": {
            "n_clips": 30,
            "waf_clean": 0.86,
            "acc_clean": 0.9,
            "waf_noisy": 0.6,
            "acc_noisy": 0.6,
            "waf_drop": 0.26,
        },
    },
    "by_blur_factor": {
        "4": {
            "n_clips": 20,
            "waf_clean": 0.85,
            "acc_clean": 0.9,
            "waf_noisy": 0.55,
            "acc_noisy": 0.6,
            "waf_drop": 0.3,
        },
    },
}
CHOICE = {
    "requested": "auto",
    "model": "self_training",
    "reason": "auto: self-training's CV WAF 0.902 is above supervised's 0.881 (same folds)",
}
PNG = b"\x89PNG\r\n\x1a\nfake"


def _first_page(**kwargs):
    summary = SUMMARY | {"submission": CHOICE}
    pictures = {"confusion": PNG, "per_class_f1": PNG}
    return report.headline_fragment(
        summary, ROBUSTNESS_BY, OV, _accounting(), pictures, "d" * 64, **kwargs
    )


def test_first_page_carries_every_picture_as_a_data_uri_inside_a_figure():
    import base64

    page = _first_page()
    sources = re.findall(r"<figure[^>]*><img src='([^']+)'", page)
    assert len(sources) == 4  # self-training gain, per-class F1, confusion, MER-NOISE
    assert all(s.startswith("data:image/") for s in sources)
    assert sum(s == "data:image/png;base64," + base64.b64encode(PNG).decode() for s in sources) == 2
    svgs = [base64.b64decode(s.split(",", 1)[1]).decode() for s in sources if "svg" in s]
    assert any("self-training gain" in s and "gain +0.021" in s for s in svgs)
    assert any("by SNR and blur" in s and "5 dB" in s and "blur x4" in s for s in svgs)
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch


def test_first_page_shows_semi_gain_noise_by_snr_and_blur_and_ov():
    text = _first_page()
    for expected in (
        "0.881 ± 0.053",  # supervised CV WAF
        "0.902 ± 0.049",  # self-trained CV WAF
        "+0.021",  # CV gain
        "+0.051",  # test gain 0.933 - 0.882
        "<th>5 dB</th>",
        "<th>10 dB</th>",
        "<th>blur x4</th>",
        "0.550",  # noisy WAF at blur 4
        "MER-OV (set-level, lexicon)",
        "0.728",
    ):
        assert expected in text, expected
    header, rows = report.noise_table(ROBUSTNESS_BY)
    assert header == ["MER-NOISE", "all", "5 dB", "10 dB", "blur x4"]  # numeric order
    assert [r[0] for r in rows] == ["WAF clean", "WAF noisy", "drop", "clips"]


def test_audio_only_clips_are_their_own_noise_group_after_the_blur_factors():
    scores = ROBUSTNESS_BY["by_blur_factor"]["4"]
    robustness = {**ROBUSTNESS_BY, "by_blur_factor": {"none": scores, "4": scores, "2": scores}}
    header, _ = report.noise_table(robustness)
    assert header[-3:] == ["blur x2", "blur x4", "no video (not blurred)"]
    assert "no video (not blurred)" in report.robustness_svg(robustness)


def test_first_page_names_the_submitted_model_and_why():
    text = _first_page()
    assert "Submitted: the self-trained model" in text
    assert "0.902 is above supervised" in text


def test_provenance_is_one_line_with_commit_config_data_and_date():
    text = _first_page()
    line = re.search(r"<p class='mf-prov'>(.*?)</p>", text)[1]
    for expected in (
        "commit abcdef123456",
        "config ffffffffffff",
        "data dddddddddddd",
        "2026-01-01 00:00 UTC",
    ):
        assert expected in line, expected
    assert "<br" not in line and "\n" not in line


def test_first_page_style_lifts_the_landing_box_to_the_top_only_on_the_landing_page():
    text = _first_page()
    style = re.search(r"<style>(.*?)</style>", text, re.S)[1]
    assert "div.h-screen:has(.merflow-headline) { align-items: flex-start;" in style
    assert "div.prose:has(.merflow-headline)" in style


def test_bar_chart_zooms_to_the_values_and_labels_each_bar():
    svg = report.bar_chart_svg("t", ["a", "b"], [("s", "#000", [0.9, None], [0.02, None])])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "0.900" in svg and svg.count("<rect") == 3  # background, one bar, one legend
    assert ">0.80<" in svg and ">1.00<" in svg and ">0.00<" not in svg


def test_manifest_digest_ignores_row_order_and_sees_a_changed_label():
    from merlib.provenance import manifest_sha256
    from merlib.schemas import MANIFEST

    rows = [
        {
            "name": n,
            "split": "labeled",
            "path": f"{n}.mp4",
            "discrete": "sad",
            "transcription": "x",
            "shard": "000",
        }
        for n in ("a", "b")
    ]
    one = manifest_sha256(table_from_rows(rows, MANIFEST))
    assert one == manifest_sha256(table_from_rows(rows[::-1], MANIFEST))
    rows[1]["discrete"] = "happy"
    assert one != manifest_sha256(table_from_rows(rows, MANIFEST))


ASR_CHECK = {
    "requested": 200,
    "clips": 120,
    "model": "base",
    "backend": "faster-whisper",
    "characters": 1534,
    "errors": 598,
    "cer": 0.3898,
    "ci_low": 0.3512,
    "ci_high": 0.4301,
    "ci_level": 0.95,
    "empty_asr": 2,
    "worst": [
        {
            "name": "sample_00042",
            "reference": "广州市房地产中介协会分析",
            "asr": "广州市佛地产<b>",
            "cer": 0.5833,
            "reason": None,
        }
    ],
}


def test_first_page_shows_the_asr_cer_on_labelled_clips_with_its_interval():
    summary = SUMMARY | {"submission": CHOICE, "asr_check": ASR_CHECK}
    text = report.headline_fragment(summary, None, None, _accounting(), {}, "d" * 64)
    assert "ASR CER on labelled clips (vs the release text)" in text
    for expected in ("0.390", "0.351 - 0.430", "<td class='num'>120</td>", "1534"):
        assert expected in text, expected
    assert "ASR CER on labelled clips" not in _first_page()  # no check in the summary: no table
    off = SUMMARY | {"submission": CHOICE, "asr_check": {"clips": 0, "cer": None}}
    assert "ASR CER on labelled clips" not in report.headline_fragment(off)


def test_summary_page_puts_the_worst_clips_release_text_beside_asr_text():
    page = report.summary_page(SUMMARY | {"asr_check": ASR_CHECK}, _accounting())
    assert "ASR&#x27;s worst clips" in page or "ASR's worst clips" in page
    row = re.search(r"<tr><td>sample_00042</td>(.*?)</tr>", page).group(1)
    assert "广州市房地产中介协会分析</td><td>广州市佛地产&lt;b&gt;" in row  # escaped
    assert "0.583" in row and "base (faster-whisper)" in page
