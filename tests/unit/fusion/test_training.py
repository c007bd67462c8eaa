"""Random search, self-training and the paper-style tables, on small synthetic corpora."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fusion_corpora import fusion_corpus, multi_feature_corpus

from merlib import metrics, paper_tables, search
from merlib.fusion import selftrain, training
from merlib.fusion.params import FusionParams
from merlib.labels import LABELS
from merlib.schemas import PREDICTIONS

SPACE = {"hidden_dim": [64, 128, 256], "dropout": [0.2, 0.3, 0.4, 0.5], "lr": [1e-3, 1e-4]}


# tiny models: extra intra-op threads only stall on a busy machine (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- random search ----------------------------------------------------------------------


def test_sampled_combinations_are_seeded_and_drawn_from_the_lists():
    a = search.sample_combinations(SPACE, 50, seed=3)
    assert a == search.sample_combinations(SPACE, 50, seed=3)
    assert a != search.sample_combinations(SPACE, 50, seed=4)
    assert [c["combination"] for c in a] == list(range(50))
    for key, values in SPACE.items():
        assert {c[key] for c in a} == set(values)  # 50 draws reach every value here


def test_sampling_with_an_empty_list_raises_naming_the_key():
    with pytest.raises(search.SearchError, match="search.lr"):
        search.sample_combinations(dict(SPACE, lr=[]), 3, seed=0)


def _record(i, waf):
    params = FusionParams(hidden_dim=64, dropout=0.2, lr=1e-3).as_dict()
    std = {"waf": 0.0, "acc": 0.0}
    return {"combination": i, "params": params, "waf": waf, "acc": waf, "std": std}


def test_best_combination_is_the_highest_mean_waf_and_the_first_on_ties():
    records = [_record(0, 0.5), _record(1, 0.7), _record(2, 0.7), _record(3, 0.6)]
    assert search.select_best(records)["combination"] == 1
    table = search.search_table(records)
    assert table["combination"].tolist() == [1, 2, 3, 0]


def test_unreadable_search_record_raises_naming_the_file(tmp_path):
    bad = tmp_path / "007.json"
    bad.write_text("{not json")
    with pytest.raises(search.SearchError, match="007.json"):
        search.read_records([bad])
    (tmp_path / "008.json").write_text(json.dumps({"combination": 8}))
    with pytest.raises(search.SearchError, match="008.json: search record lacks"):
        search.read_records([tmp_path / "008.json"])


def test_retraining_the_selected_combination_reproduces_its_search_run(tmp_path):
    manifest, files = fusion_corpus(tmp_path)
    base = FusionParams(epochs=4, folds=3)
    combo = search.sample_combinations(SPACE, 2, seed=0)[1]
    record = search.run_combination(manifest, files, ["a", "b"], base, combo)
    assert record["params"]["hidden_dim"] == combo["hidden_dim"]
    assert record["seed_offset"] == search.SEED_STRIDE
    run = training.train_on_manifest(
        manifest, files, ["a", "b"], FusionParams(**record["params"]), record["seed_offset"]
    )

    def untimed(folds):
        return [{k: v for k, v in f.items() if k != "seconds"} for f in folds]

    assert untimed(run.record["folds"]) == untimed(record["folds"])
    search.plot_search(search.search_table([record]), tmp_path / "search.png")
    assert (tmp_path / "search.png").read_bytes()[:4] == b"\x89PNG"


# --- self-training ----------------------------------------------------------------------


def test_self_training_keeps_the_supervised_folds_and_adds_confident_pool_clips(tmp_path):
    manifest, files = fusion_corpus(tmp_path, n_labelled=36, n_unlabelled=30)
    params = FusionParams(hidden_dim=32, epochs=30, folds=3, batch_size=8)
    supervised = training.train_on_manifest(manifest, files, ["a", "b"], params)
    run = selftrain.self_train(
        manifest, files, supervised.cv.checkpoint, supervised.record["folds"], 0.6, rounds=2
    )
    rounds = run.record["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert rounds[0]["folds"] == supervised.record["folds"]
    assert rounds[0]["n_pseudo"] == 0
    assert 0 < rounds[1]["n_pseudo"] <= run.record["pool_with_features"] == 29
    for r in rounds[1:]:
        assert sum(r["pseudo_per_class"].values()) == r["n_pseudo"]
        n_val = [f["n_val"] for f in r["folds"]]
        assert n_val == [f["n_val"] for f in supervised.record["folds"]]
        n_train = [f["n_train"] - r["n_pseudo"] for f in r["folds"]]
        assert n_train == [f["n_train"] for f in supervised.record["folds"]]
    pool = run.predictions.predictions
    assert pool.schema.equals(PREDICTIONS) and pool.num_rows == 30
    # its summary beside supervised, scored on the pool's (here synthetic) labels
    names = pool.column("name").to_pylist()
    labels = pd.DataFrame({"name": names, "discrete": [LABELS[int(n[1:]) % 6] for n in names]})
    summary = metrics.self_training_summary(run.record, pool, labels)
    assert summary["cv"]["waf"] == rounds[-1]["waf"]
    assert summary["test"]["n_clips"] == 30 and 0 <= summary["test"]["waf"] <= 1


def test_self_training_threshold_out_of_range_raises(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        selftrain.self_train(tmp_path / "m.parquet", {}, {}, [], 1.5, rounds=1)


# --- paper tables -----------------------------------------------------------------------


def test_unimodal_table_ranks_features_within_each_modality(tmp_path):
    manifest, files, modalities = multi_feature_corpus(tmp_path)
    params = FusionParams(hidden_dim=16, epochs=20, folds=3, batch_size=8)
    table = paper_tables.unimodal_table(manifest, files, modalities, params)
    assert table.columns.tolist() == paper_tables.UNIMODAL_COLUMNS
    assert sorted(table["feature"]) == sorted(modalities)
    for _, group in table.groupby("modality"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["waf"].is_monotonic_decreasing
    text = table[table["modality"] == "text"].set_index("feature")
    assert text.loc["text_good", "rank"] == 1
    assert (table["n_clips"] == 36).all() and (table["dim"] == 5).all()


def test_multimodal_plan_takes_top_n_per_modality_and_skips_repeats():
    unimodal = pd.DataFrame(
        {
            "feature": ["a2", "a1", "v1", "tg", "t2", "t1"],
            "modality": ["audio", "audio", "visual", "text", "text", "text"],
            "rank": [1, 2, 1, 1, 2, 3],
        }
    )
    plan = paper_tables.multimodal_plan(unimodal)
    plan = [(p["combination"], p["top_n"], p["features"]) for p in plan]
    assert plan == [
        ("A+V", 1, ["a2", "v1"]),
        ("A+V", 2, ["a2", "a1", "v1"]),
        ("A+T", 1, ["a2", "tg"]),
        ("A+T", 2, ["a2", "a1", "tg", "t2"]),
        ("A+T", 3, ["a2", "a1", "tg", "t2", "t1"]),
        ("V+T", 1, ["v1", "tg"]),
        ("V+T", 2, ["v1", "tg", "t2"]),
        ("V+T", 3, ["v1", "tg", "t2", "t1"]),
        ("A+V+T", 1, ["a2", "v1", "tg"]),
        ("A+V+T", 2, ["a2", "a1", "v1", "tg", "t2"]),
        ("A+V+T", 3, ["a2", "a1", "v1", "tg", "t2", "t1"]),
    ]


def test_multimodal_plan_leaves_out_combinations_with_a_missing_modality():
    unimodal = pd.DataFrame({"feature": ["a", "t"], "modality": ["audio", "text"], "rank": [1, 1]})
    assert [p["combination"] for p in paper_tables.multimodal_plan(unimodal)] == ["A+T"]


def test_multimodal_table_trains_each_planned_row(tmp_path):
    manifest, files, modalities = multi_feature_corpus(tmp_path)
    params = FusionParams(hidden_dim=8, epochs=3, folds=3)
    unimodal = pd.DataFrame(
        {"feature": ["a2", "v1", "text_good"], "modality": ["audio", "visual", "text"], "rank": 1}
    )
    table = paper_tables.multimodal_table(manifest, files, unimodal, params)
    assert table.columns.tolist() == paper_tables.MULTIMODAL_COLUMNS
    assert table["combination"].tolist() == ["A+V", "A+T", "V+T", "A+V+T"]
    assert table["features"].iloc[-1] == "a2,v1,text_good"
    assert ((table["waf"] >= 0) & (table["waf"] <= 1)).all()
    paper_tables.plot_tables(unimodal.assign(waf=0.5, waf_std=0.1), table, tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 1000
