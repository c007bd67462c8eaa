"""Small fusion inputs written to disk for the fusion, training, search and reference
tests: feature tables with class-dependent centres and the manifest they belong to."""

from __future__ import annotations

import numpy as np

from merlib.labels import LABELS
from merlib.schemas import MANIFEST, features_schema, table_from_rows, write_table


def write_feature(path, rows, dim):
    """A feature table of ``(name, vector)`` rows at ``path``; returns the path as a string."""
    table = table_from_rows(
        [{"name": n, "embedding": list(map(float, v))} for n, v in rows], features_schema(dim)
    )
    write_table(table, path, features_schema(dim))
    return str(path)


def fusion_corpus(tmp_path, n_labelled=36, n_unlabelled=5):
    """Features a (4-d) and b (3-d) in two shards each, labelled clips L*, unlabelled U*;
    L000 and U040 have no feature, every fourth clip lacks b. -> (manifest, files)."""
    rng = np.random.default_rng(0)
    centres = {"a": rng.normal(size=(6, 4)) * 2, "b": rng.normal(size=(6, 3)) * 2}
    manifest, feats = [], {"a": [], "b": []}
    for i in range(n_labelled + n_unlabelled):
        labelled = i < n_labelled
        name = f"{'L' if labelled else 'U'}{i:03d}"
        label = LABELS[i % 6]
        manifest.append(
            {
                "name": name,
                "split": "labeled" if labelled else "unlabeled",
                "path": f"{name}.mp4",
                "discrete": label if labelled else None,
                "shard": f"{i % 2:03d}",
            }
        )
        if name in ("L000", "U040"):  # no feature at all
            continue
        for f in ("a", "b"):
            if f == "b" and i % 4 == 1:  # some clips lack feature b only
                continue
            feats[f].append((name, centres[f][i % 6] + rng.normal(size=centres[f].shape[1])))
    write_table(table_from_rows(manifest, MANIFEST), tmp_path / "manifest.parquet", MANIFEST)
    files = {}
    for f, rows in feats.items():
        dim = centres[f].shape[1]
        files[f] = [write_feature(tmp_path / f"{f}-{s}.parquet", rows[s::2], dim) for s in range(2)]
    return tmp_path / "manifest.parquet", files


def multi_feature_corpus(tmp_path):
    """Two audio, one visual and three text features; text_good carries the labels."""
    rng = np.random.default_rng(1)
    n = 36
    names = [f"L{i:03d}" for i in range(n)]
    y = [LABELS[i % 6] for i in range(n)]
    manifest = [
        {"name": c, "split": "labeled", "path": f"{c}.mp4", "discrete": t, "shard": "000"}
        for c, t in zip(names, y, strict=True)
    ]
    write_table(table_from_rows(manifest, MANIFEST), tmp_path / "manifest.parquet", MANIFEST)
    strength = {"a1": 0.5, "a2": 2.0, "v1": 1.0, "t1": 0.0, "t2": 0.3, "text_good": 3.0}
    files = {}
    for f, s in strength.items():
        centres = rng.normal(size=(6, 5))
        rows = [(c, s * centres[i % 6] + rng.normal(size=5)) for i, c in enumerate(names)]
        files[f] = [write_feature(tmp_path / f"{f}.parquet", rows, 5)]
    modalities = {"a1": "audio", "a2": "audio", "v1": "visual"}
    modalities |= {"t1": "text", "t2": "text", "text_good": "text"}
    return tmp_path / "manifest.parquet", files, modalities
