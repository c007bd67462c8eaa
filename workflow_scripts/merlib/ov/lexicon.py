"""The emotion lexicon: a partition of emotion words into synonym groups (the shipped
``merlib/data/emotion_lexicon.json`` or another), and the grouping it gives a clip's words.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .openset import Grouping, OpenSetError

LEXICON_PATH = Path(__file__).resolve().parents[1] / "data" / "emotion_lexicon.json"


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
