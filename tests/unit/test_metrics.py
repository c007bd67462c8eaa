"""Metrics: hand-computed WAF and accuracy, fold summaries, the evaluation report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from merlib import metrics
from merlib.labels import LABELS, PROB_COLUMNS, UnknownLabelError
from merlib.schemas import OOF_PREDICTIONS, PREDICTIONS, table_from_rows

# Six clips. Per class (support = true count, predicted = predicted count, tp):
#   neutral: support 2, predicted 2, tp 1 -> P 1/2, R 1/2, F1 1/2
#   angry:   support 2, predicted 3, tp 2 -> P 2/3, R 1,   F1 2*(2/3)/(5/3) = 4/5
#   happy:   support 1, predicted 1, tp 1 -> F1 1
#   sad:     support 1, predicted 0, tp 0 -> F1 0
#   worried, surprise: support 0 -> weight 0
# WAF = (2 * 1/2 + 2 * 4/5 + 1 * 1 + 1 * 0) / 6 = 3.6 / 6 = 0.6
# accuracy = 4 correct of 6 = 2/3
Y_TRUE = ["neutral", "neutral", "angry", "angry", "happy", "sad"]
Y_PRED = ["neutral", "angry", "angry", "angry", "happy", "neutral"]


def test_waf_matches_hand_computed_six_clip_example():
    assert metrics.waf(Y_TRUE, Y_PRED) == pytest.approx(0.6, abs=1e-12)


def test_accuracy_matches_hand_computed_six_clip_example():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6, abs=1e-12)


def test_waf_of_perfect_predictions_is_one_even_with_absent_classes():
    assert metrics.waf(["sad", "happy"], ["sad", "happy"]) == 1.0


def test_waf_gives_zero_weight_to_classes_only_predicted():
    # neutral: support 1, F1 1; happy: support 1, predicted 0, F1 0;
    # surprise: predicted once but never true -> support 0, weight 0. WAF = (1 + 0) / 2
    assert metrics.waf(["neutral", "happy"], ["neutral", "surprise"]) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_waf_indices_equals_sklearn_weighted_f1(seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 6, size=37)
    p = np.where(rng.random(37) < 0.5, t, rng.integers(0, 4, size=37))
    expected = f1_score(t, p, labels=list(range(6)), average="weighted", zero_division=0)
    assert metrics.waf_indices(t, p) == pytest.approx(expected, abs=1e-15)
    assert metrics.waf([LABELS[i] for i in t], [LABELS[i] for i in p]) == pytest.approx(
        expected, abs=1e-15
    )


def test_unknown_label_raises_naming_it():
    with pytest.raises(UnknownLabelError, match="joyful"):
        metrics.waf(["happy"], ["joyful"])


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="2 labels"):
        metrics.accuracy(["happy", "sad"], ["happy"])


def test_empty_labels_raise():
    with pytest.raises(ValueError, match="empty"):
        metrics.waf([], [])


def test_confusion_matrix_rows_are_true_labels_in_label_order():
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.shape == (6, 6)
    n, a, h, s = (LABELS.index(x) for x in ("neutral", "angry", "happy", "sad"))
    assert cm[n, n] == 1 and cm[n, a] == 1
    assert cm[a, a] == 2
    assert cm[h, h] == 1
    assert cm[s, n] == 1
    assert cm.sum() == 6


def test_per_class_scores_match_hand_computed_values():
    table = metrics.per_class_scores(Y_TRUE, Y_PRED).set_index("label")
    assert list(table.index) == list(LABELS)
    assert table.loc["angry", "precision"] == pytest.approx(2 / 3)
    assert table.loc["angry", "recall"] == pytest.approx(1.0)
    assert table.loc["angry", "f1"] == pytest.approx(0.8)
    assert table.loc["sad", "f1"] == 0.0
    assert table.loc["worried", "support"] == 0


def test_summarise_gives_means_and_population_std():
    folds = [{"waf": 0.5, "acc": 0.6}, {"waf": 0.7, "acc": 0.8}, {"waf": 0.9, "acc": 0.7}]
    s = metrics.summarise(folds)
    assert s["waf"] == pytest.approx(0.7)
    assert s["acc"] == pytest.approx(0.7)
    # population std (ddof=0): sqrt(((-0.2)^2 + 0 + 0.2^2) / 3) = sqrt(0.08 / 3)
    assert s["std"]["waf"] == pytest.approx(np.sqrt(0.08 / 3))
    assert s["std"]["acc"] == pytest.approx(np.sqrt(0.02 / 3))


def test_summarise_of_one_fold_has_zero_std():
    assert metrics.summarise([{"waf": 0.4, "acc": 0.5}])["std"] == {"waf": 0.0, "acc": 0.0}


def test_summarise_without_folds_raises():
    with pytest.raises(ValueError):
        metrics.summarise([])


# --- evaluate -------------------------------------------------------------------------


def _oof():
    rows = []
    for i, (t, p) in enumerate(zip(Y_TRUE, Y_PRED, strict=True)):
        probs = np.full(6, 0.1)
        probs[LABELS.index(p)] = 0.5
        rows.append(
            {"name": f"c{i}", "discrete": t, "predicted": p, "fold": i % 2}
            | dict(zip(PROB_COLUMNS, probs, strict=True))
        )
    return table_from_rows(rows, OOF_PREDICTIONS)


def _predictions(labels):
    rows = []
    for i, label in enumerate(labels):
        probs = np.full(6, 0.1)
        probs[LABELS.index(label)] = 0.5
        rows.append(
            {"name": f"u{i}"} | dict(zip(PROB_COLUMNS, probs, strict=True)) | {"discrete": label}
        )
    return table_from_rows(rows, PREDICTIONS)


def _records(oof):
    return [r | {"best_epoch": 3} for r in metrics.fold_scores(oof)]


def test_evaluate_reports_cv_means_over_folds_and_test_scores():
    oof = _oof()
    preds = _predictions(["happy", "sad", "neutral"])
    labels = pd.DataFrame({"name": ["u0", "u1"], "discrete": ["happy", "angry"]})
    summary, per_class, confusion = metrics.evaluate(oof, _records(oof), preds, labels)
    folds = metrics.fold_scores(oof)
    assert summary["cv"]["waf"] == pytest.approx(np.mean([f["waf"] for f in folds]))
    assert summary["cv"]["n_clips"] == 6
    assert set(summary["cv"]["std"]) == {"waf", "acc"}
    assert summary["test"] == {"waf": pytest.approx(0.5), "acc": 0.5, "n_clips": 2}
    assert set(per_class["set"]) == {"cv", "test"}
    assert confusion.sum() == 6
    json.dumps(summary)  # JSON-serialisable


def test_evaluate_without_test_labels_has_no_test_section():
    oof = _oof()
    summary, per_class, _ = metrics.evaluate(oof, _records(oof), _predictions(["sad"]), None)
    assert "test" not in summary
    assert set(per_class["set"]) == {"cv"}


def test_evaluate_test_label_without_prediction_raises():
    oof = _oof()
    labels = pd.DataFrame({"name": ["u0", "nope"], "discrete": ["happy", "sad"]})
    with pytest.raises(metrics.EvaluationError, match="nope"):
        metrics.evaluate(oof, _records(oof), _predictions(["happy"]), labels)


def test_evaluate_fold_record_disagreeing_with_oof_raises():
    oof = _oof()
    records = _records(oof)
    records[0]["waf"] += 0.1
    with pytest.raises(metrics.EvaluationError, match="fold 0"):
        metrics.evaluate(oof, records, None, None)


def test_read_test_labels_rejects_unknown_label(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("name,discrete\na,happy\nb,bored\n")
    with pytest.raises(UnknownLabelError, match="row 3"):
        metrics.read_test_labels(path)


def test_read_test_labels_rejects_wrong_header(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("clip,label\na,happy\n")
    with pytest.raises(metrics.EvaluationError, match="name,discrete"):
        metrics.read_test_labels(path)


def test_plot_confusion_writes_a_png(tmp_path):
    path = tmp_path / "cm.png"
    metrics.plot_confusion(metrics.confusion_matrix(Y_TRUE, Y_PRED), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_test_confusion_counts_pool_predictions_against_the_known_labels():
    labels = pd.DataFrame({"name": ["u0", "u1"], "discrete": ["sad", "happy"]})
    matrix = metrics.test_confusion(_predictions(["sad", "angry"]), labels)
    assert matrix[LABELS.index("sad"), LABELS.index("sad")] == 1
    assert matrix[LABELS.index("happy"), LABELS.index("angry")] == 1
    assert matrix.sum() == 2


def test_plot_confusion_with_test_draws_two_panels_wider_than_one(tmp_path):
    from PIL import Image

    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    metrics.plot_confusion(cm, tmp_path / "one.png")
    metrics.plot_confusion(cm, tmp_path / "two.png", test=cm)
    one, two = (Image.open(tmp_path / f"{n}.png").size for n in ("one", "two"))
    assert two[0] > 1.6 * one[0]


def test_per_class_plot_keeps_its_legend_outside_the_axes(tmp_path, monkeypatch):
    from merlib import plots

    seen = {}
    original = plots.save_figure

    def spy(fig, path, **kwargs):
        ax = fig.axes[0]
        legend = ax.get_legend()
        fig.canvas.draw()
        box, axes = legend.get_window_extent(), ax.get_window_extent()
        seen["outside"] = box.x0 >= axes.x1
        seen["labels"] = [t.get_text() for t in ax.texts]
        original(fig, path, **kwargs)

    monkeypatch.setattr(plots, "save_figure", spy)
    per_class = metrics.per_class_scores(Y_TRUE, Y_PRED).assign(set="cv")
    metrics.plot_per_class_f1(per_class, tmp_path / "f1.png")
    assert seen["outside"]
    assert "0.500" in seen["labels"] and "0.800" in seen["labels"]
