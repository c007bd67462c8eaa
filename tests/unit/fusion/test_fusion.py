"""Attention fusion: the model, cross-validated training, checkpoints, the workflow steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fusion_corpora import fusion_corpus, write_feature

from merlib import metrics
from merlib.fusion import dataset, prediction, submission, training
from merlib.fusion.model import AttentionFusion
from merlib.fusion.params import ATTENTION_MODES, FusionParams
from merlib.labels import LABELS, PROB_COLUMNS
from merlib.schemas import (
    FALLBACKS,
    FEATURE_FLAGS,
    OOF_PREDICTIONS,
    PREDICTIONS,
    table_from_rows,
    write_table,
)

DIMS = [11, 3, 20, 5]


# tiny models: extra intra-op threads only stall on a busy machine (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


FAST = {"hidden_dim": 32, "epochs": 20}


def _inputs(batch=7, dims=DIMS, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = [torch.randn(batch, d, generator=g) for d in dims]
    mask = torch.ones(batch, len(dims), dtype=torch.bool)
    return xs, mask


def _model(attention="raw", dims=DIMS, hidden=16):
    torch.manual_seed(0)
    return AttentionFusion(dims, hidden_dim=hidden, dropout=0.3, attention=attention).eval()


def _dataset(n=120, dims=(88, 7, 512), separation=1.0, seed=0, random_labels=False):
    """Class-dependent means per feature (or random labels with the same features)."""
    rng = np.random.default_rng(seed)
    y_idx = rng.permutation(np.arange(n) % len(LABELS))
    X = {}
    for k, d in enumerate(dims):
        centres = rng.normal(size=(len(LABELS), d))
        X[f"f{k}"] = (separation * centres[y_idx] + rng.normal(size=(n, d))).astype(np.float32)
    mask = {f: np.ones(n, dtype=bool) for f in X}
    if random_labels:
        y_idx = rng.permutation(y_idx)
    return X, mask, np.array([LABELS[i] for i in y_idx])


# --- the model --------------------------------------------------------------------------


def test_model_outputs_have_expected_shapes_with_four_features():
    model = _model()
    xs, mask = _inputs(batch=5)
    out = model.parts(xs, mask)
    assert out.hidden.shape == (5, 4, 16)
    assert out.weights.shape == (5, 4)
    assert out.fused.shape == (5, 16)
    assert out.logits.shape == (5, len(LABELS))
    assert model(xs, mask).shape == (5, len(LABELS))


@pytest.mark.parametrize("n_features", [1, 2, 6])
def test_model_accepts_any_number_of_features(n_features):
    dims = list(range(2, 2 + n_features))
    model = _model(dims=dims)
    xs, mask = _inputs(batch=3, dims=dims)
    assert model(xs, mask).shape == (3, len(LABELS))


def test_raw_attention_matches_the_reference_computation():
    # MERTools: attention = fc_att(attention_mlp(cat(hidden))); fused = stack(hidden) @ attention
    model = _model("raw")
    xs, mask = _inputs()
    hidden = [enc(x) for enc, x in zip(model.encoders, xs, strict=True)]
    attention = model.fc_att(model.attention_mlp(torch.cat(hidden, dim=1))).unsqueeze(2)
    fused = torch.matmul(torch.stack(hidden, dim=2), attention).squeeze(2)
    out = model.parts(xs, mask)
    torch.testing.assert_close(out.weights, attention.squeeze(2))
    torch.testing.assert_close(out.fused, fused)
    torch.testing.assert_close(out.logits, model.fc_out(fused))


def test_raw_attention_weights_are_not_normalised():
    out = _model("raw").parts(*_inputs(batch=16))
    sums = out.weights.sum(dim=1)
    assert not torch.allclose(sums, torch.ones_like(sums))


def test_softmax_attention_weights_sum_to_one_over_present_features():
    xs, mask = _inputs(batch=6)
    mask[0, 1] = mask[2, 0] = mask[2, 3] = False
    out = _model("softmax").parts(xs, mask)
    torch.testing.assert_close(out.weights.sum(dim=1), torch.ones(6))
    assert (out.weights >= 0).all()
    assert out.weights[0, 1] == 0 and out.weights[2, 0] == 0 and out.weights[2, 3] == 0


def test_fused_vector_is_the_weighted_sum_of_hidden_vectors():
    for attention in ATTENTION_MODES:
        xs, mask = _inputs()
        mask[1, 2] = False
        out = _model(attention).parts(xs, mask)
        expected = sum(out.weights[:, f, None] * out.hidden[:, f] for f in range(len(DIMS)))
        torch.testing.assert_close(out.fused, expected)


@pytest.mark.parametrize("attention", ATTENTION_MODES)
def test_output_does_not_depend_on_a_masked_features_values(attention):
    model = _model(attention)
    xs, mask = _inputs(batch=8)
    mask[:4, 2] = False
    mask[5, 0] = False
    garbage = [x.clone() for x in xs]
    garbage[2][:4] = torch.tensor(float("nan"))
    garbage[2][1] = 1e30
    garbage[0][5] = torch.randn(DIMS[0]) * 1e6
    a, b = model.parts(xs, mask), model.parts(garbage, mask)
    assert torch.equal(a.logits, b.logits)
    assert torch.equal(a.weights, b.weights)
    assert (a.hidden[:4, 2] == 0).all() and (a.weights[:4, 2] == 0).all()


def test_softmax_clip_without_any_feature_gets_finite_output_and_gradients():
    model = _model("softmax").train()
    xs, mask = _inputs(batch=4)
    mask[1] = False
    logits = model(xs, mask)
    logits.sum().backward()
    assert torch.isfinite(logits).all()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_model_rejects_unknown_attention_mode():
    with pytest.raises(ValueError, match="attention"):
        AttentionFusion([3], attention="sigmoid")


# --- parameters -------------------------------------------------------------------------


def test_fusion_params_from_config_ignores_feature_list_and_applies_seed():
    params = FusionParams.from_config(
        {"features": ["a"], "folds": 3, "lr": "0.01", "attention": "softmax"}, seed=7
    )
    assert params == FusionParams(folds=3, lr=0.01, attention="softmax", seed=7)


def test_fusion_params_from_config_rejects_unknown_key():
    with pytest.raises(ValueError, match="learning_rate"):
        FusionParams.from_config({"learning_rate": 0.1})


@pytest.mark.parametrize(
    "bad", [{"attention": "sigmoid"}, {"folds": 1}, {"dropout": 1.0}, {"epochs": 0}]
)
def test_fusion_params_reject_bad_values(bad):
    with pytest.raises(ValueError):
        FusionParams(**bad)


# --- cross-validation -------------------------------------------------------------------


def test_cross_validation_separates_class_dependent_features():
    X, mask, y = _dataset(separation=0.6)
    cv = training.cross_validate(X, mask, y, FusionParams(**FAST))
    assert cv.oof_probs.shape == (120, 6)
    np.testing.assert_allclose(cv.oof_probs.sum(axis=1), 1.0)
    assert sorted(set(cv.fold.tolist())) == [0, 1, 2, 3, 4]
    assert metrics.waf(y, cv.oof_labels) > 0.9
    assert metrics.summarise(cv.folds)["waf"] > 0.9
    assert all(1 <= f["best_epoch"] <= FAST["epochs"] for f in cv.folds)


def test_cross_validation_on_random_labels_stays_near_chance():
    # Chance WAF is about 1/6; keeping each fold's best epoch (as the reference does)
    # biases OOF scores upwards a little, hence the margin.
    X, mask, y = _dataset(dims=(16, 4, 32), random_labels=True, seed=3)
    cv = training.cross_validate(X, mask, y, FusionParams(**FAST))
    assert metrics.waf(y, cv.oof_labels) < 0.4


def test_cross_validation_is_bit_identical_across_runs():
    X, mask, y = _dataset(n=60, dims=(8, 3, 12), separation=0.3)
    mask["f1"][::5] = False
    params = FusionParams(hidden_dim=16, epochs=8, folds=3, seed=11)
    a = training.cross_validate(X, mask, y, params)
    torch.manual_seed(123)  # the caller's RNG state must not matter
    b = training.cross_validate(X, mask, y, params)
    assert np.array_equal(a.oof_probs, b.oof_probs)
    assert np.array_equal(a.fold, b.fold)
    untimed = [[{k: v for k, v in f.items() if k != "seconds"} for f in r.folds] for r in (a, b)]
    assert untimed[0] == untimed[1]
    assert np.array_equal(
        prediction.predict(a.checkpoint, X, mask), prediction.predict(b.checkpoint, X, mask)
    )


def test_cross_validation_leaves_the_callers_rng_state_alone():
    X, mask, y = _dataset(n=30, dims=(4,), separation=0.5)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    training.cross_validate(X, mask, y, FusionParams(hidden_dim=8, epochs=2, folds=2))
    assert torch.equal(torch.rand(3), expected)


def test_different_seeds_give_different_models():
    X, mask, y = _dataset(n=60, dims=(8, 3), separation=0.3)
    a = training.cross_validate(X, mask, y, FusionParams(hidden_dim=16, epochs=3, folds=3, seed=1))
    b = training.cross_validate(X, mask, y, FusionParams(hidden_dim=16, epochs=3, folds=3, seed=2))
    assert not np.array_equal(a.oof_probs, b.oof_probs)


def test_checkpoint_round_trips_through_weights_only_load(tmp_path):
    X, mask, y = _dataset(n=60, dims=(8, 3, 12), separation=0.5)
    mask["f2"][:7] = False
    cv = training.cross_validate(X, mask, y, FusionParams(hidden_dim=16, epochs=5, folds=3))
    path = tmp_path / "model.pt"
    prediction.save_checkpoint(cv.checkpoint, path)
    raw = torch.load(path, weights_only=True)
    assert raw["features"] == ["f0", "f1", "f2"] and raw["dims"] == [8, 3, 12]
    assert raw["labels"] == list(LABELS) and len(raw["folds"]) == 3
    loaded = prediction.load_checkpoint(path)
    assert np.array_equal(
        prediction.predict(loaded, X, mask), prediction.predict(cv.checkpoint, X, mask)
    )


def test_the_same_checkpoint_is_the_same_bytes_wherever_it_is_saved(tmp_path):
    X, mask, y = _dataset(n=40, dims=(8, 3), separation=0.5)
    cv = training.cross_validate(X, mask, y, FusionParams(hidden_dim=8, epochs=2, folds=2))
    prediction.save_checkpoint(cv.checkpoint, tmp_path / "a" / "model.pt")
    prediction.save_checkpoint(cv.checkpoint, tmp_path / "b" / "model.pt")
    assert (tmp_path / "a" / "model.pt").read_bytes() == (tmp_path / "b" / "model.pt").read_bytes()


def test_fold_models_reproduce_the_out_of_fold_predictions():
    X, mask, y = _dataset(n=60, dims=(8, 3), separation=0.5)
    cv = training.cross_validate(X, mask, y, FusionParams(hidden_dim=16, epochs=5, folds=3))
    for k, entry in enumerate(cv.checkpoint["folds"]):
        rows = cv.fold == k
        single = dict(cv.checkpoint, folds=[entry])
        sub_x = {f: a[rows] for f, a in X.items()}
        sub_m = {f: m[rows] for f, m in mask.items()}
        np.testing.assert_allclose(prediction.predict(single, sub_x, sub_m), cv.oof_probs[rows])


def test_predict_gives_the_class_prior_to_clips_without_any_feature():
    X, mask, y = _dataset(n=60, dims=(8, 3), separation=0.5)
    cv = training.cross_validate(X, mask, y, FusionParams(hidden_dim=16, epochs=2, folds=3))
    mask = {f: m.copy() for f, m in mask.items()}
    for m in mask.values():
        m[0] = False
    probs = prediction.predict(cv.checkpoint, X, mask)
    np.testing.assert_array_equal(probs[0], np.full(6, 1 / 6))  # balanced training labels
    assert not np.allclose(probs[1], 1 / 6)


def test_predict_with_wrong_feature_dimension_raises():
    X, mask, y = _dataset(n=30, dims=(8,), separation=0.5)
    cv = training.cross_validate(X, mask, y, FusionParams(hidden_dim=8, epochs=1, folds=2))
    with pytest.raises(prediction.CheckpointError, match="dimension 8"):
        prediction.predict(cv.checkpoint, {"f0": X["f0"][:, :5]}, mask)


# --- feature tables and the workflow steps ----------------------------------------------


def test_load_feature_matrix_aligns_rows_across_shards_and_marks_missing(tmp_path):
    a0 = write_feature(tmp_path / "a0.parquet", [("c2", [2, 2]), ("zz", [9, 9])], 2)
    a1 = write_feature(tmp_path / "a1.parquet", [("c0", [0, 1])], 2)
    b0 = write_feature(tmp_path / "b0.parquet", [("c1", [5, 5, 5])], 3)
    X, mask = dataset.load_feature_matrix({"a": [a0, a1], "b": [b0]}, ["c0", "c1", "c2"])
    np.testing.assert_array_equal(X["a"], [[0, 1], [0, 0], [2, 2]])
    assert X["a"].dtype == np.float32 and X["b"].shape == (3, 3)
    np.testing.assert_array_equal(mask["a"], [True, False, True])
    np.testing.assert_array_equal(mask["b"], [False, True, False])


def test_load_feature_matrix_dimension_mismatch_raises_naming_files(tmp_path):
    a0 = write_feature(tmp_path / "a0.parquet", [("c0", [1, 2])], 2)
    a1 = write_feature(tmp_path / "a1.parquet", [("c1", [1, 2, 3])], 3)
    with pytest.raises(dataset.FeatureTableError, match="a1.parquet has dimension 3"):
        dataset.load_feature_matrix({"a": [a0, a1]}, ["c0", "c1"])


def test_load_feature_matrix_duplicate_clip_raises(tmp_path):
    a0 = write_feature(tmp_path / "a0.parquet", [("c0", [1.0])], 1)
    a1 = write_feature(tmp_path / "a1.parquet", [("c0", [2.0])], 1)
    with pytest.raises(dataset.FeatureTableError, match="'c0' appears more than once"):
        dataset.load_feature_matrix({"a": [a0, a1]}, ["c0"])


def test_load_feature_matrix_non_finite_value_raises(tmp_path):
    a0 = write_feature(tmp_path / "a0.parquet", [("c0", [1.0, float("nan")])], 2)
    with pytest.raises(dataset.FeatureTableError, match="non-finite"):
        dataset.load_feature_matrix({"a": [a0]}, ["c0"])


def test_training_and_prediction_steps_on_a_small_manifest(tmp_path):
    manifest, files = fusion_corpus(tmp_path)
    params = FusionParams(hidden_dim=16, epochs=5, folds=3)
    run = training.train_on_manifest(manifest, files, ["a", "b"], params)
    assert run.oof.schema.equals(OOF_PREDICTIONS)
    assert run.oof.num_rows == 35
    assert [e["name"] for e in run.excluded] == ["L000"]
    assert "no feature available" in run.excluded[0]["reason"]
    assert run.record["n_clips"] == 35 and len(run.record["folds"]) == 3
    oof = run.oof.to_pandas()
    assert (oof["predicted"] == oof[list(PROB_COLUMNS)].idxmax(axis=1).str[2:]).all()
    # the fold records agree with the OOF table, as the evaluation checks
    metrics.evaluate(run.oof, run.record["folds"])

    pred = prediction.predict_manifest(manifest, run.cv.checkpoint, files)
    assert pred.predictions.schema.equals(PREDICTIONS)
    assert pred.predictions.column("name").to_pylist() == [f"U{i:03d}" for i in range(36, 41)]
    assert pred.fallbacks.schema.equals(FALLBACKS)
    assert pred.fallbacks.column("name").to_pylist() == ["U040"]
    prior = run.cv.checkpoint["class_prior"].numpy()
    last = pred.predictions.slice(4).to_pylist()[0]
    np.testing.assert_allclose([last[c] for c in PROB_COLUMNS], prior)

    path = tmp_path / "submission.csv"
    submission.write_submission(pred.predictions, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "name,discrete" and len(lines) == 6
    assert lines[1] == f"U036,{pred.predictions.column('discrete')[0].as_py()}"


def _write_flags(path, rows):
    write_table(table_from_rows(rows, FEATURE_FLAGS), path, FEATURE_FLAGS)
    return str(path)


def test_load_feature_flags_aligns_flags_to_names_and_joins_several(tmp_path):
    f0 = _write_flags(
        tmp_path / "f0.parquet",
        [{"name": "c2", "flag": "empty_transcription"}, {"name": "zz", "flag": "other"}],
    )
    f1 = _write_flags(tmp_path / "f1.parquet", [{"name": "c2", "flag": "other"}])
    flags = dataset.load_feature_flags({"t": [f0, f1]}, ["c0", "c1", "c2"])
    assert flags["t"].tolist() == [None, None, "empty_transcription+other"]
    assert dataset.load_feature_flags(None, ["c0"]) == {}


def test_a_flagged_vector_alone_does_not_make_a_clip_usable():
    mask = {"a": np.array([True, False, False, True]), "t": np.array([True, True, False, False])}
    flags = {"t": np.array(["empty_transcription", "empty_transcription", None, None])}
    np.testing.assert_array_equal(dataset.usable_features(mask), [True, True, False, True])
    np.testing.assert_array_equal(dataset.usable_features(mask, flags), [True, False, False, True])


def test_clips_with_only_flagged_vectors_fall_back_and_are_left_out_of_training(tmp_path):
    manifest, files = fusion_corpus(tmp_path)
    # L001 and U037 have feature a only (i % 4 == 1): flag it, as if it were a zero vector.
    flags = {
        "a": [
            _write_flags(
                tmp_path / "flags-a.parquet",
                [{"name": n, "flag": "empty_transcription"} for n in ("L001", "U037", "U038")],
            )
        ],
        "b": [_write_flags(tmp_path / "flags-b.parquet", [])],
    }
    params = FusionParams(hidden_dim=16, epochs=5, folds=3)
    sources = dataset.FeatureSources(files, flags)
    run = training.train_on_manifest(manifest, sources, ["a", "b"], params)
    excluded = {e["name"]: e["reason"] for e in run.excluded}
    assert sorted(excluded) == ["L000", "L001"]
    assert excluded["L001"] == "no feature available (missing: b; flagged: a empty_transcription)"
    assert excluded["L000"] == "no feature available (missing: a, b)"

    pred = prediction.predict_manifest(manifest, run.cv.checkpoint, sources)
    reasons = dict(zip(*pred.fallbacks.to_pydict().values(), strict=True))
    assert sorted(reasons) == ["U037", "U040"]
    assert "flagged: a empty_transcription" in reasons["U037"]
    rows = {r["name"]: r for r in pred.predictions.to_pylist()}
    prior = run.cv.checkpoint["class_prior"].numpy()
    np.testing.assert_allclose([rows["U037"][c] for c in PROB_COLUMNS], prior)
    # U038 has b as well: it is predicted by the model, flagged vector included
    unflagged = prediction.predict_manifest(manifest, run.cv.checkpoint, files)
    same = {r["name"]: r for r in unflagged.predictions.to_pylist()}
    assert rows["U038"] == same["U038"]
    assert not np.allclose([rows["U038"][c] for c in PROB_COLUMNS], prior)


# --- noise augmentation: copies of labelled clips stay in their clip's fold -------------


def test_fold_extra_rows_puts_a_copy_only_in_the_folds_that_train_on_its_clip():
    sources = np.array([dataset.NO_SOURCE, 0, 3, 1, dataset.NO_SOURCE])
    rows = training.fold_extra_rows(np.array([0, 2, 3]), sources, n=5)
    np.testing.assert_array_equal(rows, [5, 6, 7, 9])  # 5 + [0, 1, 2, 4]
    rows = training.fold_extra_rows(np.array([1, 4]), sources, n=5)
    np.testing.assert_array_equal(rows, [5, 8, 9])
    with pytest.raises(ValueError, match="source 7 is not a labelled clip"):
        training.fold_extra_rows(np.array([0]), np.array([7]), n=5)


def test_extra_rows_concat_keeps_each_parts_sources():
    a = dataset.ExtraRows(
        {"f": np.ones((2, 3))}, {"f": np.ones(2, bool)}, np.array([1, 2]), np.array([4, 0])
    )
    b = dataset.ExtraRows({"f": np.zeros((1, 3))}, {"f": np.zeros(1, bool)}, np.array([5]))
    both = dataset.ExtraRows.concat([None, a, b])
    assert len(both) == 3 and both.X["f"].shape == (3, 3)
    np.testing.assert_array_equal(both.sources(), [4, 0, dataset.NO_SOURCE])
    np.testing.assert_array_equal(both.mask["f"], [True, True, False])
    assert dataset.ExtraRows.concat([None]) is None
    assert dataset.ExtraRows.concat([b]) is b


def test_noisy_copies_never_leak_a_validation_clip_into_its_training_fold():
    # Random labels: the only way to beat chance is to see a validation clip's own label.
    X, mask, y = _dataset(dims=(16, 4, 32), random_labels=True, seed=3)
    y_idx = np.array([LABELS.index(v) for v in y])
    rng = np.random.default_rng(5)
    copies = {f: x + 0.05 * rng.normal(size=x.shape).astype(np.float32) for f, x in X.items()}
    params = FusionParams(hidden_dim=32, epochs=40)
    paired = dataset.ExtraRows(copies, mask, y_idx, source=np.arange(len(y)))
    cv = training.cross_validate(X, mask, y, params, extra=paired)
    assert metrics.waf(y, cv.oof_labels) < 0.4
    # each training fold holds the copies of its own clips only
    for f in cv.folds:
        assert f["n_extra"] == len(y) - f["n_val"] and f["n_train"] == 2 * f["n_extra"]
    # the same copies given to every fold let the model memorise the validation labels
    leaky = dataset.ExtraRows(copies, mask, y_idx)
    assert metrics.waf(y, training.cross_validate(X, mask, y, params, extra=leaky).oof_labels) > 0.8


def test_load_labelled_takes_one_noisy_copy_per_clip_whose_copy_has_a_feature(tmp_path):
    manifest, files = fusion_corpus(tmp_path)
    # the noisy copy: feature a for every labelled clip but L002, feature b for none
    noisy_a = [(f"L{i:03d}", np.full(4, i, dtype=float)) for i in range(36) if i != 2]
    noisy = {
        "a": [write_feature(tmp_path / "noisy-a.parquet", noisy_a, 4)],
        "b": [write_feature(tmp_path / "noisy-b.parquet", [], 3)],
    }
    sources = dataset.FeatureSources(files, noisy_files=noisy)
    data = dataset.load_labelled(manifest, sources, ["a", "b"])
    assert data.names[0] == "L001"  # L000 has no feature: excluded, and so is its copy
    assert data.n_noisy == 34
    copied = [data.names[i] for i in data.noisy.sources()]
    assert "L002" not in copied and "L000" not in copied and len(set(copied)) == 34
    for j, i in enumerate(data.noisy.sources()):
        assert LABELS[data.noisy.y[j]] == data.labels[i]
        assert data.noisy.X["a"][j, 0] == float(data.names[i][1:])
    assert not data.noisy.mask["b"].any()

    params = FusionParams(hidden_dim=16, epochs=3, folds=3)
    run = training.train_on_manifest(manifest, sources, ["a", "b"], params)
    assert run.record["noisy_copies"] == 34 and run.oof.num_rows == 35
    assert sum(f["n_extra"] for f in run.record["folds"]) == 2 * 34  # 3 folds: 2 train each


def test_feature_sources_from_a_rules_named_inputs_per_feature():
    # what rules/common.smk's feature_inputs names: <kind>_<feature>, a list per shard set
    inputs = {
        "manifest": "manifest.parquet",
        "features_a": ["a-0.parquet", "a-1.parquet"],
        "flags_a": ["flags-a-0.parquet", "flags-a-1.parquet"],
        "features_b-2": ["b-0.parquet"],
        "flags_b-2": ["flags-b-0.parquet"],
        "features_unused": ["u-0.parquet"],
    }
    sources = dataset.FeatureSources.from_inputs(inputs, ["a", "b-2"])
    assert sources.files == {"a": ["a-0.parquet", "a-1.parquet"], "b-2": ["b-0.parquet"]}
    assert sources.flags == {
        "a": ["flags-a-0.parquet", "flags-a-1.parquet"],
        "b-2": ["flags-b-0.parquet"],
    }
    assert sources.noisy is None  # no noisy_* inputs: no augmentation

    inputs |= {"noisy_features_a": ["n-0.parquet"], "noisy_flags_a": ["nf-0.parquet"]}
    noisy = dataset.FeatureSources.from_inputs(inputs, ["a"]).noisy
    assert noisy == dataset.FeatureSources({"a": ["n-0.parquet"]}, {"a": ["nf-0.parquet"]})
    # a single file (one shard) may come as a plain path
    assert dataset.input_files({"rejects_a": "r-0.parquet"}, "rejects", ["a"]) == {
        "a": ["r-0.parquet"]
    }
    assert dataset.FeatureSources.of({"a": ["x"]}) == dataset.FeatureSources({"a": ["x"]})


def test_a_feature_without_its_named_input_is_refused_when_loaded():
    sources = dataset.FeatureSources.from_inputs({"features_a": ["a-0.parquet"]}, ["a", "b"])
    with pytest.raises(ValueError, match="no shard files given for feature.*b"):
        sources.load(["x"], ["a", "b"])
