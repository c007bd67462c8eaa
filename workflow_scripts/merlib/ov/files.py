"""Open-set files: the release's ``name,openset`` CSV (read, checked and written
atomically) and synonym groupings read from a folder of ``<name>.npy`` (the release's, each
holding a language model's reply) or a JSON file ``{name: [[...]]}``.

A ground-truth clip with an empty set, a duplicate name or a cell that is not a list literal
is an error naming the file and row.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_text_atomic
from .openset import Grouping, OpenSetError, format_openset, parse_grouping, parse_openset


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
