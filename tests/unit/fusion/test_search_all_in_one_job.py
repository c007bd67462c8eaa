"""search.combinations_per_job: all puts the whole search in one job (one GPU)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from merlib import search
from merlib.config_check import config_problems

REPO = Path(__file__).resolve().parents[3]
SCHEMA = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
SPACE = {"hidden_dim": [8, 16, 32], "dropout": [0.2, 0.5], "lr": [1e-3, 3e-3]}


def test_all_makes_one_job_of_every_combination_in_index_order():
    combos = search.sample_combinations(SPACE, 9, seed=3)
    assert len({c["hidden_dim"] for c in combos}) > 1  # widths mixed in the one job
    assert search.search_jobs(combos, "all") == [combos]
    assert search.search_jobs([], "all") == []


@pytest.mark.parametrize("bad", ["some", "ALL", 0])
def test_per_job_other_than_a_positive_integer_or_all_raises_naming_the_key(bad):
    with pytest.raises(search.SearchError, match="combinations_per_job must be at least 1 or all"):
        search.search_jobs(search.sample_combinations(SPACE, 2, seed=0), bad)


@pytest.mark.parametrize(("value", "ok"), [("all", True), (3, True), ("most", False), (0, False)])
def test_config_accepts_all_or_a_positive_integer(value, ok):
    config = copy.deepcopy(CONFIG)
    config["search"]["combinations_per_job"] = value
    problems = config_problems(config, SCHEMA)
    assert (problems == []) is ok, problems
    if not ok:
        assert any("search.combinations_per_job" in p for p in problems)
