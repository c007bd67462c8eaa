"""Computed groupings: clustering by sentence-encoder cosine distance."""

from __future__ import annotations

import numpy as np

from merlib.ov.groupings import EncoderGrouper
from merlib.ov.openset import synonym_map


def test_encoder_grouper_clusters_by_cosine_distance():
    vectors = {"a": [1, 0], "b": [0.99, 0.1], "c": [0, 1]}
    grouper = EncoderGrouper(0.3, encode=lambda ws: np.array([vectors[w] for w in ws]))
    groups = grouper(["a", "b", "c"])
    assert sorted(map(sorted, groups)) == [["a", "b"], ["c"]]


def test_encoder_grouper_with_the_offline_encoder_groups_synonyms():
    grouper = EncoderGrouper(0.25)
    mapping = synonym_map(grouper(["happy", "joyful", "furious", "angry"]))
    assert mapping.get("happy", "happy") == mapping.get("joyful", "joyful")
    assert mapping.get("happy", "happy") != mapping.get("angry", "angry")
