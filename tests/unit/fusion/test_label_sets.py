"""Any label set: fusion, prediction, self-training and evaluation follow the run's labels
(config labels) in their order, with nothing of MER2024's six left."""

from __future__ import annotations

import numpy as np
import pytest
from fusion_corpora import fusion_corpus

from merlib import metrics
from merlib.fusion.params import FusionParams
from merlib.fusion.prediction import (
    CheckpointError,
    load_checkpoint,
    predict_manifest,
    save_checkpoint,
)
from merlib.fusion.selftrain import self_train
from merlib.fusion.training import train_on_manifest
from merlib.labels import MER2024, LabelSet, UnknownLabelError, label_set
from merlib.schemas import oof_schema, predictions_schema

THREE = LabelSet(("fear", "disgust", "calm"))
FAST = {"hidden_dim": 8, "epochs": 3, "folds": 3, "batch_size": 8}


def test_label_set_keeps_its_order_and_names_itself_in_errors():
    assert THREE.prob_columns == ("p_fear", "p_disgust", "p_calm")
    assert THREE.index("calm") == 2 and "fear" in THREE and "happy" not in THREE
    with pytest.raises(UnknownLabelError, match="'happy': expected one of fear, disgust, calm"):
        THREE.index("happy")
    assert label_set(None) is MER2024 and label_set(["a", "b"]) == LabelSet(("a", "b"))
    with pytest.raises(ValueError, match="must differ"):
        LabelSet(("a", "a"))


def test_training_prediction_and_self_training_use_the_runs_labels(tmp_path):
    manifest, files = fusion_corpus(tmp_path, n_labelled=27, n_unlabelled=4, labels=THREE)
    run = train_on_manifest(manifest, files, ["a", "b"], FusionParams(**FAST), labels=THREE)
    assert run.oof.schema.equals(oof_schema(THREE))
    assert set(run.oof.column("predicted").to_pylist()) <= set(THREE)
    assert run.cv.checkpoint["labels"] == list(THREE)
    pred = predict_manifest(manifest, run.cv.checkpoint, files)
    assert pred.predictions.schema.equals(predictions_schema(THREE))
    probs = np.array([pred.predictions.column(c).to_pylist() for c in THREE.prob_columns])
    np.testing.assert_allclose(probs.sum(axis=0), 1.0)
    st = self_train(manifest, files, run.cv.checkpoint, run.cv.folds, threshold=0.01, rounds=1)
    assert set(st.record["rounds"][1]["pseudo_per_class"]) == set(THREE)
    assert st.predictions.predictions.schema.equals(predictions_schema(THREE))

    summary, per_class, confusion = metrics.evaluate(run.oof, run.cv.folds, labels=THREE)
    assert confusion.shape == (3, 3) and list(per_class["label"]) == list(THREE)
    assert 0.0 <= summary["cv"]["waf"] <= 1.0
    metrics.plot_confusion(confusion, tmp_path / "c.png", labels=THREE)
    metrics.plot_per_class_f1(per_class, tmp_path / "f1.png", THREE)
    assert (tmp_path / "c.png").stat().st_size and (tmp_path / "f1.png").stat().st_size


def test_a_checkpoint_of_another_label_set_is_refused(tmp_path):
    manifest, files = fusion_corpus(tmp_path, n_labelled=27, n_unlabelled=2, labels=THREE)
    run = train_on_manifest(manifest, files, ["a", "b"], FusionParams(**FAST), labels=THREE)
    save_checkpoint(run.cv.checkpoint, tmp_path / "model.pt")
    assert load_checkpoint(tmp_path / "model.pt", THREE)["labels"] == list(THREE)
    with pytest.raises(CheckpointError, match="are not the config's"):
        load_checkpoint(tmp_path / "model.pt", MER2024)


def test_mer_labels_are_unknown_to_another_set():
    with pytest.raises(UnknownLabelError, match="y_true"):
        metrics.waf(["happy"], ["fear"], THREE)
