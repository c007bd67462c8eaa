"""protocol: reference, and each reference behaviour of the fusion side pinned on a small
hand-computed case (docs/reference.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fusion_corpora import multi_feature_corpus

from merlib import paper_tables, protocol
from merlib.fusion import stacked, training
from merlib.fusion.params import FusionParams
from merlib.fusion.standardise import fit_standardiser
from merlib.noise.draws import noise_segment

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NULLS = {
    "fusion": {"scaling": None, "split": None},
    "tables": {"unimodal_branches": None, "bimodal_repeat": None, "row_search": None},
    "noise": {"replacement": None},
    "search": {"n_combinations": 50},
}


def _resolve(**top):
    config = {k: dict(v) for k, v in NULLS.items()} | top
    return protocol.resolve(config)


# --- protocol: one switch, per-row options, explicit values win ----------------------------


def test_merflow_protocol_fills_merflow_defaults():
    c = _resolve()
    assert c["protocol"] == "merflow"
    assert c["fusion"] == {"scaling": "zscore", "split": "stratified"}
    assert c["tables"] == {"unimodal_branches": 1, "bimodal_repeat": False, "row_search": 0}
    assert c["noise"] == {"replacement": False}


def test_reference_protocol_fills_every_reference_behaviour():
    c = _resolve(protocol="reference")
    assert c["fusion"] == {"scaling": "none", "split": "blocks"}
    # the per-row search draws as many combinations as the main search (50 here)
    assert c["tables"] == {"unimodal_branches": 3, "bimodal_repeat": True, "row_search": 50}
    assert c["noise"] == {"replacement": True}


def test_an_explicit_per_row_value_wins_over_the_protocol():
    config = {k: dict(v) for k, v in NULLS.items()} | {"protocol": "reference"}
    config["fusion"]["scaling"] = "zscore"
    config["tables"]["row_search"] = 0
    c = protocol.resolve(config)
    assert c["fusion"] == {"scaling": "zscore", "split": "blocks"}
    assert c["tables"]["row_search"] == 0 and c["tables"]["unimodal_branches"] == 3
    assert config["fusion"]["split"] is None  # the caller's mapping is left alone


def test_an_unknown_protocol_raises_naming_the_choices():
    with pytest.raises(ValueError, match="merflow, reference"):
        _resolve(protocol="mertools")


def test_fusion_params_take_a_null_option_as_merflow_default():
    p = FusionParams.from_config({"features": ["a"], "scaling": None, "split": "blocks"})
    assert (p.scaling, p.split) == ("zscore", "blocks")
    with pytest.raises(ValueError, match="scaling"):
        FusionParams(scaling="minmax")


# --- fusion.scaling ---------------------------------------------------------------------------


def test_zscore_and_raw_scaling_on_a_two_row_case():
    x = np.array([[1.0, 2.0], [3.0, 6.0], [100.0, 100.0]], np.float32)
    present = np.array([True, True, False])
    mean, std = fit_standardiser(x, present)
    assert mean.tolist() == [2.0, 4.0] and std.tolist() == [1.0, 2.0]
    mean, std = fit_standardiser(x, present, "none")
    assert mean.tolist() == [0.0, 0.0] and std.tolist() == [1.0, 1.0]


def _arrays(n=24):
    rng = np.random.default_rng(0)
    y = [["neutral", "angry", "happy"][i % 3] for i in range(n)]
    X = {"a": rng.normal(size=(n, 4)).astype(np.float32) * 5 + 3}
    X["b"] = rng.normal(size=(n, 2)).astype(np.float32)
    return X, {f: np.ones(n, bool) for f in X}, y


def test_raw_scaling_stores_the_identity_with_every_fold_model():
    X, mask, y = _arrays()
    params = FusionParams(hidden_dim=8, epochs=2, folds=3, batch_size=8, scaling="none")
    cv = training.cross_validate(X, mask, y, params)
    for entry in cv.checkpoint["folds"]:
        for f in X:
            assert entry["mean"][f].abs().max().item() == 0.0
            assert entry["std"][f].eq(1.0).all().item()
    assert cv.checkpoint["params"]["scaling"] == "none"


def test_stacked_training_reads_raw_inputs_with_scaling_none():
    a = np.array([[1.0], [3.0], [5.0], [7.0]], np.float32)
    mask = np.ones((4, 1), bool)
    spec = stacked.ModelSpec(np.array([0, 1, 2]), np.array([3]), dropout=0.0, lr=1e-3, seed=0)
    kwargs = {"hidden_dim": 4, "attention": "raw", "epochs": 1, "batch_size": 4}
    kwargs["weight_decay"] = 0.0
    raw = stacked.train_stacked([a], mask, np.array([0, 1, 0, 1]), [spec], scaling="none", **kwargs)
    z = stacked.train_stacked([a], mask, np.array([0, 1, 0, 1]), [spec], **kwargs)
    assert raw[0].mean[0].tolist() == [0.0] and raw[0].std[0].tolist() == [1.0]
    # zscore on rows 0-2: mean 3, population std sqrt(8/3)
    assert z[0].mean[0].tolist() == [3.0]
    assert z[0].std[0].tolist() == pytest.approx([1.6329932])


# --- fusion.split ---------------------------------------------------------------------------


def test_block_folds_are_contiguous_blocks_of_one_shuffle_remainder_to_the_last():
    # numpy's default_rng(0).permutation(11) is [4 6 7 2 0 3 5 10 9 8 1]: blocks of
    # 11 // 5 = 2, the last one takes the remainder (3 clips)
    splits = training.cv_splits(np.zeros(11, np.int64), 5, seed=0, split="blocks")
    assert [v.tolist() for _, v in splits] == [[4, 6], [2, 7], [0, 3], [5, 10], [1, 8, 9]]
    assert splits[4][0].tolist() == [0, 2, 3, 4, 5, 6, 7, 10]


def test_block_folds_are_not_stratified():
    # one class of 2 clips and 5 folds: stratified folds refuse, blocks do not
    y = np.array([0] * 8 + [1] * 2)
    with pytest.raises(ValueError, match="every class"):
        training.cv_splits(y, 5, seed=0)
    splits = training.cv_splits(y, 5, seed=0, split="blocks")
    assert sorted(np.concatenate([v for _, v in splits]).tolist()) == list(range(10))


# --- tables.unimodal_branches, tables.bimodal_repeat ------------------------------------------


def test_a_repeated_feature_becomes_one_branch_per_copy():
    X = {"f": np.ones((2, 3)), "g": np.zeros((2, 1))}
    mask = {"f": np.array([True, False]), "g": np.array([True, True])}
    bx, bm = paper_tables.branch_inputs(X, mask, ["f", "f", "g", "f"])
    assert list(bx) == ["f#0", "f#1", "g#0", "f#2"]
    assert bm["f#2"].tolist() == [True, False]
    assert list(paper_tables.branch_inputs(X, mask, ["g", "f"])[0]) == ["g", "f"]


def test_three_branch_unimodal_rows_train_three_encoders(tmp_path):
    manifest, files, modalities = multi_feature_corpus(tmp_path)
    params = FusionParams(hidden_dim=8, epochs=2, folds=3, batch_size=8)
    options = paper_tables.TableOptions(unimodal_branches=3)
    table = paper_tables.unimodal_table(manifest, files, {"a1": "audio"}, params, options)
    assert table["dim"].tolist() == [5] and table["n_clips"].tolist() == [36]
    X = {f"a1#{k}": np.ones((6, 5), np.float32) for k in range(3)}
    M = {f: np.ones(6, bool) for f in X}
    y = ["neutral", "angry", "happy"] * 2
    cv = training.cross_validate(X, M, y, FusionParams(hidden_dim=8, epochs=1, folds=2))
    assert cv.checkpoint["dims"] == [5, 5, 5]


def test_bimodal_rows_repeat_one_modality_as_the_reference():
    unimodal = pd.DataFrame(
        {
            "feature": ["a2", "a1", "v1", "tg", "t2"],
            "modality": ["audio", "audio", "visual", "text", "text"],
            "rank": [1, 2, 1, 1, 2],
        }
    )
    plan = paper_tables.multimodal_plan(unimodal, repeat=True)
    plan = [(p["combination"], p["top_n"], p["features"]) for p in plan]
    assert plan == [
        ("A+V", 1, ["a2", "v1", "v1"]),
        ("A+V", 2, ["a2", "a1", "v1", "v1"]),
        ("A+T", 1, ["a2", "tg", "tg"]),
        ("A+T", 2, ["a2", "a1", "tg", "t2", "tg", "t2"]),
        ("V+T", 1, ["tg", "tg", "v1"]),
        ("V+T", 2, ["tg", "t2", "tg", "t2", "v1"]),
        ("A+V+T", 1, ["a2", "v1", "tg"]),
        ("A+V+T", 2, ["a2", "a1", "v1", "tg", "t2"]),
    ]


# --- tables.row_search -----------------------------------------------------------------------


def test_row_search_keeps_the_best_draw_and_reports_it(tmp_path):
    manifest, files, modalities = multi_feature_corpus(tmp_path)
    params = FusionParams(hidden_dim=8, epochs=3, folds=3, batch_size=8)
    space = {"hidden_dim": [4, 8], "dropout": [0.0, 0.5], "lr": [1e-3], "seed": 1}
    options = paper_tables.TableOptions(row_search=3, search_space=space)
    table = paper_tables.unimodal_table(manifest, files, {"v1": "visual"}, params, options)
    assert table.columns.tolist() == paper_tables.UNIMODAL_COLUMNS + paper_tables.SEARCH_COLUMNS
    row = table.iloc[0]
    assert row["search_draws"] == 3 and row["search_seconds"] > 0
    # the kept row is the best of the three draws, each retrained here on its own
    from merlib.fusion.dataset import load_labelled
    from merlib.search import combination_params, fold_seed_offset, sample_combinations

    data = load_labelled(manifest, files, ["v1"])
    wafs = []
    for combo in sample_combinations(space, 3, 1):
        cv = training.cross_validate(
            data.X,
            data.mask,
            data.labels,
            combination_params(params, combo),
            seed_offset=fold_seed_offset(combo),
        )
        wafs.append(np.mean([f["waf"] for f in cv.folds]))
    assert row["waf"] == pytest.approx(max(wafs))
    assert int(row["search_combination"]) == int(np.argmax(wafs))


def test_row_search_needs_a_search_space():
    with pytest.raises(ValueError, match="search space"):
        paper_tables.TableOptions(row_search=2)


# --- noise.replacement ------------------------------------------------------------------------


class _FixedDraws:
    """A generator stand-in whose draws are written out: integers() gives ``picks``."""

    def __init__(self, picks):
        self.picks = list(picks)

    def integers(self, low, high=None, size=None):
        if size is None:  # the crop offset
            return 0
        out, self.picks = self.picks[:size], self.picks[size:]
        return np.array(out)

    def permutation(self, n):
        return np.arange(n)[::-1]


def test_noise_files_drawn_with_replacement_may_repeat_within_a_pass():
    files = [np.full(2, 10 * (i + 1), np.int16) for i in range(3)]
    noise, used, offset = noise_segment(
        _FixedDraws([1, 1, 0]), 3, 5, files.__getitem__, replacement=True
    )
    assert used == [1, 1, 0] and offset == 0
    assert noise.tolist() == [20, 20, 20, 20, 10]
    _, used, _ = noise_segment(_FixedDraws([]), 3, 5, files.__getitem__)
    assert used == [2, 1, 0]  # without replacement: each file once per pass
