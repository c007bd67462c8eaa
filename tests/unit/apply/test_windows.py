"""A video's turn clips in time windows: the window of a turn, shard ids, the shard list
(empty windows, a video shorter than one window, hash parts within a window) and the
progress line each job logs."""

from __future__ import annotations

import pytest

from merlib.apply.windows import (
    clock,
    read_shards,
    shard_id,
    window_count,
    window_of,
    window_shard,
    window_shards,
    write_shards,
)
from merlib.shards import shard_index


def test_a_turn_belongs_to_the_window_holding_its_start():
    assert window_of(0.0, 600) == 0
    assert window_of(599.999, 600) == 0
    assert window_of(600.0, 600) == 1  # exactly on a boundary: the later window
    assert window_of(1799.0, 600) == 2
    assert window_of(-0.01, 600) == 0
    assert window_of(0.3, 0.1) == 2  # float division, not rounding up past the boundary


@pytest.mark.parametrize("window_s", [0, -1])
def test_window_length_must_be_positive(window_s):
    with pytest.raises(ValueError, match="window_s must be > 0"):
        window_of(1.0, window_s)
    with pytest.raises(ValueError, match="window_s must be > 0"):
        window_count(10.0, window_s)


def test_windows_cover_the_duration_and_a_short_video_has_one():
    assert window_count(7200.0, 600) == 12
    assert window_count(7200.5, 600) == 13
    assert window_count(12.0, 600) == 1
    assert window_count(0.0, 600) == window_count(None, 600) == 1


def test_shard_ids_name_the_window_and_the_hash_part():
    assert shard_id(3) == "w0003"
    assert shard_id(3, 1) == "w0003-1"
    assert shard_id(12345) == "w12345"
    assert window_shard(1250.0, "v_001", 600, 1) == "w0002"
    part = shard_index("v_001", 3)
    assert window_shard(1250.0, "v_001", 600, 3) == f"w0002-{part}"
    with pytest.raises(ValueError, match="shards must be >= 1"):
        window_shard(0.0, "v_001", 600, 0)


def test_shard_list_holds_only_windows_with_turns_in_time_order():
    clips = [("a", 10.0), ("b", 20.0), ("c", 1250.0), ("d", 600.0)]
    listing = window_shards(clips, 1900.0, 600, 1)
    assert listing["windows"] == 4
    assert [(s["shard"], s["clips"]) for s in listing["shards"]] == [
        ("w0000", 2),
        ("w0001", 1),
        ("w0002", 1),
    ]  # w0003 (1800-1900 s) has no turn: no shard, no job
    assert listing["shards"][1]["progress"] == "window 2/4, 00:10:00-00:20:00, 1 turns"
    last = window_shards([("a", 1850.0)], 1900.0, 600, 1)["shards"][0]
    assert last["progress"] == "window 4/4, 00:30:00-00:31:40, 1 turns"  # ends with the video


def test_video_shorter_than_one_window_is_one_shard():
    listing = window_shards([("a", 1.0), ("b", 9.5)], 12.0, 600, 1)
    assert listing["windows"] == 1
    assert listing["shards"] == [
        {
            "shard": "w0000",
            "window": 0,
            "part": None,
            "start": 0.0,
            "end": 12.0,
            "clips": 2,
            "progress": "window 1/1, 00:00:00-00:00:12, 2 turns",
        }
    ]


def test_video_without_clip_has_the_one_empty_shard_of_window_0():
    assert [(s["shard"], s["clips"]) for s in window_shards([], 6.0, 600, 1)["shards"]] == [
        ("w0000", 0)
    ]
    assert [s["shard"] for s in window_shards([], None, 600, 4)["shards"]] == ["w0000-0"]


def test_several_parts_per_window_split_its_turns_by_name():
    names = [f"v_{i:03d}" for i in range(40)]
    clips = [(n, 5.0 * i) for i, n in enumerate(names)]  # 0 .. 195 s: windows of 100 s
    listing = window_shards(clips, 200.0, 100, 3)
    ids = [s["shard"] for s in listing["shards"]]
    assert ids == sorted(ids) and set(ids) <= {f"w000{w}-{p}" for w in (0, 1) for p in range(3)}
    assert sum(s["clips"] for s in listing["shards"]) == 40
    for name, start in clips:
        assert window_shard(start, name, 100, 3) in ids
    first = listing["shards"][0]
    assert first["progress"].startswith(
        f"window 1/2, 00:00:00-00:01:40, part {first['part'] + 1}/3"
    )


def test_a_clip_after_the_probed_duration_still_has_its_window():
    listing = window_shards([("a", 700.0)], 650.0, 600, 1)  # duration probed short
    assert [s["shard"] for s in listing["shards"]] == ["w0001"] and listing["windows"] == 2


def test_shard_list_round_trips_and_a_bad_one_names_the_file(tmp_path):
    listing = window_shards([("a", 1.0)], 12.0, 4, 1)
    write_shards(listing, tmp_path / "shards.json")
    assert read_shards(tmp_path / "shards.json") == listing
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="bad.json: not a shard list"):
        read_shards(tmp_path / "bad.json")


def test_clock():
    assert clock(0) == "00:00:00" and clock(3723.4) == "01:02:03"


def test_a_changed_turn_changes_only_its_windows_digest(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from merlib.apply.windows import window_digests

    def write(turns):
        pq.write_table(pa.Table.from_pylist(turns), tmp_path / "turns.parquet")
        manifest = [
            {
                "name": t["name"],
                "path": f"clips/{t['name']}.mp4",
                "shard": window_shard(t["start"], t["name"], 600, 1),
            }
            for t in turns
        ]
        pq.write_table(pa.Table.from_pylist(manifest), tmp_path / "manifest.parquet")
        return window_digests(tmp_path / "turns.parquet", tmp_path / "manifest.parquet")

    turns = [
        {"name": "v_a", "start": 10.0, "end": 12.0},
        {"name": "v_b", "start": 700.0, "end": 705.0},
        {"name": "v_c", "start": 1300.0, "end": 1302.0},
    ]
    before = write(turns)
    assert sorted(before) == ["w0000", "w0001", "w0002"]
    turns[1]["end"] = 706.5  # same name and clip path, a longer turn
    after = write(turns)
    assert [s for s in before if before[s] != after[s]] == ["w0001"]
    assert write(turns) == after  # rewritten unchanged: the same digests
