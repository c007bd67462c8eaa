"""MER-OV files: the name,openset CSV and synonym groupings from .npy folders and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from merlib.ov.files import load_groupings, read_openset_csv, write_openset_csv
from merlib.ov.openset import OpenSetError


def test_read_openset_csv_round_trips_and_rejects_bad_rows(tmp_path):
    rows = {"s2": ["sad", "looking forward to"], "s1": [], "s3": ["开心"]}
    path = tmp_path / "p.csv"
    write_openset_csv(rows, path)
    assert path.read_text().splitlines()[0] == "name,openset"
    assert read_openset_csv(path) == rows
    with pytest.raises(OpenSetError, match=r"p.csv, row 2 \(s1\): empty set"):
        read_openset_csv(path, allow_empty=False)
    (tmp_path / "dup.csv").write_text("name,openset\na,['x']\na,['y']\n")
    with pytest.raises(OpenSetError, match=r"dup.csv, row 3 \(a\).*twice"):
        read_openset_csv(tmp_path / "dup.csv")
    (tmp_path / "cols.csv").write_text("name,labels\na,['x']\n")
    with pytest.raises(OpenSetError, match="cols.csv: expected the columns name,openset"):
        read_openset_csv(tmp_path / "cols.csv")


def test_groupings_load_from_release_npy_folder_and_json(tmp_path):
    folder = tmp_path / "openset-synonym"
    folder.mkdir()
    np.save(folder / "s1.npy", "[['joyful', 'happy'], ['sad']]")
    np.save(folder / "s2.npy", "")
    assert load_groupings(folder) == {"s1": [["joyful", "happy"], ["sad"]], "s2": []}
    path = tmp_path / "syn.json"
    path.write_text(json.dumps({"s1": [["happy", "joyful"]], "s2": "[['a', 'b']]"}))
    assert load_groupings(path) == {"s1": [["happy", "joyful"]], "s2": [["a", "b"]]}
    path.write_text(json.dumps({"s1": [1, 2]}))
    with pytest.raises(OpenSetError, match="syn.json, clip s1"):
        load_groupings(path)
    with pytest.raises(OpenSetError, match="no such synonym folder"):
        load_groupings(tmp_path / "nowhere")
