"""MER-OV library: parsing as the reference does, set-level scores, groupings, baselines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from merlib import ov
from merlib.demo.text import PHRASES
from merlib.labels import LABELS, PROB_COLUMNS


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("['happy', 'relaxed']", ["happy", "relaxed"]),
        ('["looking forward to", "joyful"]', ["looking forward to", "joyful"]),
        ("[]", []),
        ("", []),
        (None, []),
        (float("nan"), []),
        ("['开心', '愉快']", ["开心", "愉快"]),
    ],
)
def test_parse_openset_reads_list_literals_and_empty_cells(cell, words):
    assert ov.parse_openset(cell) == words


def test_parse_openset_without_brackets_names_the_place():
    with pytest.raises(ov.OpenSetError, match=r"gt.csv, row 3.*not a list literal"):
        ov.parse_openset("happy, sad", "gt.csv, row 3")


def test_parse_grouping_is_lenient_about_text_around_the_list():
    reply = "Output: [['joyful', 'happy'], ['sad'],['worried',\"concerned\"]]"
    groups = ov.parse_grouping(reply)
    assert ["joyful", "happy"] in groups and ["sad"] in groups
    assert ["worried", "concerned"] in groups
    assert ov.synonym_map(groups)["happy"] == "joyful"


def test_clip_scores_follow_the_reference_definition():
    groups = [["happy", "joyful"], ["sad", "sadness"]]
    # G = {happy, sad}, P = {happy, angry}: |G&P| = 1
    assert ov.clip_scores(["Happy", "sadness"], ["joyful", "angry"], groups) == (0.5, 0.5)
    # a word in no group maps to itself; duplicates after mapping count once
    assert ov.clip_scores(["happy"], ["happy", "joyful"], groups) == (1.0, 1.0)
    assert ov.clip_scores(["happy"], [], groups) == (0.0, 0.0)
    assert ov.clip_scores(["happy", "calm"], ["calm"], []) == (1.0, 0.5)


def test_evaluate_uses_the_ground_truth_clips_and_reports_the_rest():
    gt = {"a": ["happy"], "b": ["sad", "worried"], "c": ["angry"]}
    pred = {"a": ["joyful"], "b": ["sad"], "x": ["happy"]}
    groupings = {"a": [["happy", "joyful"]], "b": []}
    metrics, per_clip = ov.evaluate_openset(gt, pred, groupings, "test")
    assert metrics["n_clips"] == 3
    assert metrics["accuracy"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics["recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["avg"] == pytest.approx((metrics["accuracy"] + metrics["recall"]) / 2)
    assert metrics["unknown_predictions"] == ["x"]
    assert metrics["n_missing_predictions"] == 1 and metrics["n_without_grouping"] == 1
    assert list(per_clip["name"]) == ["a", "b", "c"]


def test_read_openset_csv_round_trips_and_rejects_bad_rows(tmp_path):
    rows = {"s2": ["sad", "looking forward to"], "s1": [], "s3": ["开心"]}
    path = tmp_path / "p.csv"
    ov.write_openset_csv(rows, path)
    assert path.read_text().splitlines()[0] == "name,openset"
    assert ov.read_openset_csv(path) == rows
    with pytest.raises(ov.OpenSetError, match=r"p.csv, row 2 \(s1\): empty set"):
        ov.read_openset_csv(path, allow_empty=False)
    (tmp_path / "dup.csv").write_text("name,openset\na,['x']\na,['y']\n")
    with pytest.raises(ov.OpenSetError, match=r"dup.csv, row 3 \(a\).*twice"):
        ov.read_openset_csv(tmp_path / "dup.csv")
    (tmp_path / "cols.csv").write_text("name,labels\na,['x']\n")
    with pytest.raises(ov.OpenSetError, match="cols.csv: expected the columns name,openset"):
        ov.read_openset_csv(tmp_path / "cols.csv")


def test_groupings_load_from_release_npy_folder_and_json(tmp_path):
    folder = tmp_path / "openset-synonym"
    folder.mkdir()
    np.save(folder / "s1.npy", "[['joyful', 'happy'], ['sad']]")
    np.save(folder / "s2.npy", "")
    assert ov.load_groupings(folder) == {"s1": [["joyful", "happy"], ["sad"]], "s2": []}
    path = tmp_path / "syn.json"
    path.write_text(json.dumps({"s1": [["happy", "joyful"]], "s2": "[['a', 'b']]"}))
    assert ov.load_groupings(path) == {"s1": [["happy", "joyful"]], "s2": [["a", "b"]]}
    path.write_text(json.dumps({"s1": [1, 2]}))
    with pytest.raises(ov.OpenSetError, match="syn.json, clip s1"):
        ov.load_groupings(path)
    with pytest.raises(ov.OpenSetError, match="no such synonym folder"):
        ov.load_groupings(tmp_path / "nowhere")


def test_shipped_lexicon_is_a_partition_covering_labels_and_demo_words():
    lexicon = ov.load_lexicon()
    for word in [*LABELS, *(w for ws in ov.DEMO_PHRASE_WORDS.values() for w in ws)]:
        assert lexicon.group_of(word) is not None, word
    assert lexicon.group_of("surprise") == lexicon.group_of("surprised")
    assert lexicon.group_of("开心") == lexicon.group_of("happy")
    assert lexicon.group_of("worried") != lexicon.group_of("afraid")


def test_lexicon_with_overlapping_groups_is_refused(tmp_path):
    path = tmp_path / "lex.json"
    path.write_text(json.dumps({"groups": [{"words": ["a", "b"]}, {"words": ["b", "c"]}]}))
    with pytest.raises(ov.OpenSetError, match="'b' is in groups 0 and 1"):
        ov.load_lexicon(path)


def test_lexicon_grouping_maps_synonyms_to_one_canonical_word():
    lexicon = ov.load_lexicon()
    groups = ov.lexicon_grouping(["joyful", "glad", "sad", "zzz-unknown"], lexicon)
    mapping = ov.synonym_map(groups)
    assert mapping["joyful"] == mapping["glad"] == "happy"
    assert mapping["sad"] == "sad" and "zzz-unknown" not in mapping


def test_encoder_grouper_clusters_by_cosine_distance():
    vectors = {"a": [1, 0], "b": [0.99, 0.1], "c": [0, 1]}
    grouper = ov.EncoderGrouper(0.3, encode=lambda ws: np.array([vectors[w] for w in ws]))
    groups = grouper(["a", "b", "c"])
    assert sorted(map(sorted, groups)) == [["a", "b"], ["c"]]


def test_encoder_grouper_with_the_offline_encoder_groups_synonyms():
    grouper = ov.EncoderGrouper(0.25)
    mapping = ov.synonym_map(grouper(["happy", "joyful", "furious", "angry"]))
    assert mapping.get("happy", "happy") == mapping.get("joyful", "joyful")
    assert mapping.get("happy", "happy") != mapping.get("angry", "angry")


def test_offline_baselines():
    names = ["s1", "s2", "s3"]
    assert ov.predict_empty(names) == {n: [] for n in names}
    random = ov.predict_random(names, seed=1)
    assert random == ov.predict_random(list(reversed(names)), seed=1)
    assert all(len(w) == 1 and w[0] in LABELS for w in random.values())
    probs = pd.DataFrame(
        [["s1", 0.05, 0.05, 0.5, 0.05, 0.05, 0.3], ["s2", 0.1, 0.2, 0.1, 0.2, 0.15, 0.25]],
        columns=["name", *PROB_COLUMNS],
    )
    assert ov.predict_fusion(probs, 0.3) == {"s1": ["happy", "surprise"], "s2": ["surprise"]}


def test_demo_ground_truth_comes_from_the_label_and_the_sentence():
    emotional = {p for label, bank in PHRASES.items() if label != "neutral" for p in bank}
    assert emotional == set(ov.DEMO_PHRASE_WORDS)
    labels = pd.DataFrame({"name": ["a", "b"], "discrete": ["surprise", "neutral"]})
    text = pd.DataFrame(
        {
            "name": ["a", "b"],
            "chinese": ["我完全没想到会这样，真的吗？", "报告写完了，火车八点出发。"],
        }
    )
    assert ov.demo_openset_labels(labels, text) == {
        "a": ["surprised", "shocked", "doubtful"],
        "b": ["neutral"],
    }
