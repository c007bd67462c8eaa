"""Offline MER-OV baselines: Empty, Random, and the fusion model's labels."""

from __future__ import annotations

import pandas as pd

from merlib.labels import LABELS, PROB_COLUMNS
from merlib.ov.baselines import predict_empty, predict_fusion, predict_random


def test_offline_baselines():
    names = ["s1", "s2", "s3"]
    assert predict_empty(names) == {n: [] for n in names}
    random = predict_random(names, seed=1)
    assert random == predict_random(list(reversed(names)), seed=1)
    assert all(len(w) == 1 and w[0] in LABELS for w in random.values())
    probs = pd.DataFrame(
        [["s1", 0.05, 0.05, 0.5, 0.05, 0.05, 0.3], ["s2", 0.1, 0.2, 0.1, 0.2, 0.15, 0.25]],
        columns=["name", *PROB_COLUMNS],
    )
    assert predict_fusion(probs, 0.3) == {"s1": ["happy", "surprise"], "s2": ["surprise"]}
