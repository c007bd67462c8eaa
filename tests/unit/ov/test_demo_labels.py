"""The demo corpus's open-set ground truth: the class word and the sentence's phrases."""

from __future__ import annotations

import pandas as pd

from merlib.demo.text import PHRASES
from merlib.ov.demo_labels import DEMO_PHRASE_WORDS, demo_openset_labels


def test_demo_ground_truth_comes_from_the_label_and_the_sentence():
    emotional = {p for label, bank in PHRASES.items() if label != "neutral" for p in bank}
    assert emotional == set(DEMO_PHRASE_WORDS)
    labels = pd.DataFrame({"name": ["a", "b"], "discrete": ["surprise", "neutral"]})
    text = pd.DataFrame(
        {
            "name": ["a", "b"],
            "chinese": ["我完全没想到会这样，真的吗？", "报告写完了，火车八点出发。"],
        }
    )
    assert demo_openset_labels(labels, text) == {
        "a": ["surprised", "shocked", "doubtful"],
        "b": ["neutral"],
    }
