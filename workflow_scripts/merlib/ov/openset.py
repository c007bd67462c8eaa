"""The open-set label format: a release cell such as ``['happy', 'relaxed']``, a language
model's synonym reply (a list of lists), and the word -> canonical word map of a grouping.

Parsed leniently, as the reference (MERTools ``MER2024/main-ov.py``) does: the text between
the first ``[`` and the next ``]``, split on quotes; an empty cell or ``[]`` is an empty set.
Words are kept as written; scoring lower-cases them (:mod:`merlib.ov.scoring`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

Grouping = list[list[str]]


class OpenSetError(ValueError):
    """An open-set CSV, a synonym grouping or a lexicon that cannot be read as expected."""


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
