"""Several search combinations per job (search.combinations_per_job), and its progress."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from fusion_corpora import fusion_corpus

from merlib import search
from merlib.fusion import training
from merlib.fusion.params import FusionParams
from merlib.labels import LABELS

SPACE = {"hidden_dim": [8, 16], "dropout": [0.2, 0.5], "lr": [1e-3, 3e-3]}

# tiny models: extra intra-op threads only stall on a busy machine (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_one_combination_per_job_is_todays_layout():
    combos = search.sample_combinations(SPACE, 7, seed=1)
    assert search.search_jobs(combos) == [[c] for c in combos]


@pytest.mark.parametrize("per_job", [2, 3, 50])
def test_jobs_group_combinations_of_one_width_and_cover_each_once(per_job):
    combos = search.sample_combinations(SPACE, 11, seed=1)
    jobs = search.search_jobs(combos, per_job)
    assert sorted(c["combination"] for job in jobs for c in job) == list(range(11))
    for job in jobs:
        assert 1 <= len(job) <= per_job
        assert len({c["hidden_dim"] for c in job}) == 1
        assert [c["combination"] for c in job] == sorted(c["combination"] for c in job)
    widths = {c["hidden_dim"] for c in combos}
    assert len(jobs) == sum(
        -(-sum(c["hidden_dim"] == w for c in combos) // per_job) for w in widths
    )


def test_zero_combinations_per_job_raises_naming_the_key():
    with pytest.raises(search.SearchError, match="search.combinations_per_job"):
        search.search_jobs(search.sample_combinations(SPACE, 2, seed=0), 0)


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = [LABELS[i % len(LABELS)] for i in rng.permutation(n)]
    X = {"a": rng.normal(size=(n, 6)).astype(np.float32),
         "b": rng.normal(size=(n, 3)).astype(np.float32)}  # fmt: skip
    mask = {"a": np.ones(n, bool), "b": np.arange(n) % 4 > 0}
    return X, mask, y


def _same(a: training.CVResult, b: training.CVResult) -> None:
    assert np.array_equal(a.oof_probs, b.oof_probs)  # bit for bit
    untimed = [[{k: v for k, v in f.items() if k != "seconds"} for f in r.folds] for r in (a, b)]
    assert untimed[0] == untimed[1]
    for fa, fb in zip(a.checkpoint["folds"], b.checkpoint["folds"], strict=True):
        for key, value in fa["state_dict"].items():
            assert torch.equal(value, fb["state_dict"][key]), key


def test_a_combination_trains_the_same_whichever_combinations_share_its_job():
    X, mask, y = _data()
    base = FusionParams(hidden_dim=8, epochs=5, folds=3, batch_size=8)
    runs = [
        (FusionParams(**{**base.as_dict(), "dropout": d, "lr": lr, "hidden_dim": h}), o)
        for d, lr, h, o in [(0.2, 1e-3, 8, 0), (0.5, 3e-3, 8, 1000), (0.3, 1e-3, 16, 2000),
                            (0.2, 1e-4, 8, 3000)]
    ]  # fmt: skip
    together = training.cross_validate_many(X, mask, y, runs)
    for (params, offset), got in zip(runs, together, strict=True):
        alone = training.cross_validate(X, mask, y, params, seed_offset=offset)
        _same(alone, got)
    # another set of neighbours, another order: still the same results
    _same(together[0], training.cross_validate_many(X, mask, y, [runs[3], runs[0]])[1])


def test_job_records_equal_one_job_per_combination_and_split_back(tmp_path):
    manifest, files = fusion_corpus(tmp_path)
    base = FusionParams(epochs=3, folds=3)
    combos = [dict(c, hidden_dim=16) for c in search.sample_combinations(SPACE, 3, seed=0)]
    records = search.run_combinations(manifest, files, ["a", "b"], base, combos)
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"records": records}))
    for combo in combos:
        alone = search.run_combination(manifest, files, ["a", "b"], base, combo)
        got = search.job_record(path, combo["combination"])
        for record in (alone, got):
            for fold in record["folds"]:
                fold.pop("seconds")
        assert got == alone


def test_a_missing_combination_in_a_job_file_raises_naming_the_file(tmp_path):
    path = tmp_path / "003.json"
    path.write_text(json.dumps({"records": [{"combination": 1}]}))
    with pytest.raises(search.SearchError, match="003.json: no record of combination 2"):
        search.job_record(path, 2)
    path.write_text("[]")
    with pytest.raises(search.SearchError, match="003.json: cannot read"):
        search.job_record(path, 1)


def test_a_search_job_logs_fold_epochs_done_of_all(tmp_path, caplog):
    manifest, files = fusion_corpus(tmp_path)
    base = FusionParams(hidden_dim=8, epochs=2, folds=3)
    combos = search.sample_combinations(SPACE, 2, seed=0)
    with caplog.at_level(logging.INFO, logger="merlib.progress"):
        search.run_combinations(manifest, files, ["a", "b"], base, combos, every=0.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "merlib.progress"]
    # every epoch of every stack adds its models' fold-epochs: 3 folds per combination
    total = 2 * 3 * 2
    assert lines[-1].split(": ", 1)[1].startswith(f"2 x 3 folds x 2 epochs: {total}/{total}")
    assert "fold-epochs" in lines[-1] and "ETA" in lines[-1]
