"""The emotion lexicon: a partition of words, refused when groups overlap, and its grouping."""

from __future__ import annotations

import json

import pytest

from merlib.labels import LABELS
from merlib.ov.demo_labels import DEMO_PHRASE_WORDS
from merlib.ov.lexicon import lexicon_grouping, load_lexicon
from merlib.ov.openset import OpenSetError, synonym_map


def test_shipped_lexicon_is_a_partition_covering_labels_and_demo_words():
    lexicon = load_lexicon()
    for word in [*LABELS, *(w for ws in DEMO_PHRASE_WORDS.values() for w in ws)]:
        assert lexicon.group_of(word) is not None, word
    assert lexicon.group_of("surprise") == lexicon.group_of("surprised")
    assert lexicon.group_of("开心") == lexicon.group_of("happy")
    assert lexicon.group_of("worried") != lexicon.group_of("afraid")


def test_lexicon_with_overlapping_groups_is_refused(tmp_path):
    path = tmp_path / "lex.json"
    path.write_text(json.dumps({"groups": [{"words": ["a", "b"]}, {"words": ["b", "c"]}]}))
    with pytest.raises(OpenSetError, match="'b' is in groups 0 and 1"):
        load_lexicon(path)


def test_lexicon_grouping_maps_synonyms_to_one_canonical_word():
    lexicon = load_lexicon()
    groups = lexicon_grouping(["joyful", "glad", "sad", "zzz-unknown"], lexicon)
    mapping = synonym_map(groups)
    assert mapping["joyful"] == mapping["glad"] == "happy"
    assert mapping["sad"] == "sad" and "zzz-unknown" not in mapping
