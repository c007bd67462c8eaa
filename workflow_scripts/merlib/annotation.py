"""Annotation support (MER2024 paper, section 2.2).

* :func:`select_for_annotation`: N systems' predicted labels per unlabelled clip; each
  clip is scored by the share of its majority label (how much the systems agree), and a
  class-balanced set of the most agreed-on clips is chosen for annotation.
* :func:`agree_labels`: several annotators' label files; a clip is kept when at least K
  of them give the same label (4 of 5 in MER2024), with that label.

Input files are CSVs (UTF-8, BOM or not). Malformed input raises
:class:`AnnotationInputError` naming the file and the problem.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pandas as pd

from .labels import LABELS


class AnnotationInputError(ValueError):
    """An annotation input file is malformed."""


def _read_csv(path: str | os.PathLike) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise AnnotationInputError(f"{path}: file does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise AnnotationInputError(f"{path}: not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "name" not in frame.columns:
        raise AnnotationInputError(f"{path}: no 'name' column (found {list(frame.columns)})")
    frame["name"] = frame["name"].str.strip()
    if (frame["name"] == "").any():
        raise AnnotationInputError(f"{path}: empty clip name in a row")
    duplicated = frame["name"][frame["name"].duplicated()].unique().tolist()
    if duplicated:
        raise AnnotationInputError(f"{path}: clip(s) listed twice: {duplicated[:5]}")
    return frame


def _check_labels(path, frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        values = frame[column].str.strip()
        bad = sorted(set(values[~values.isin(LABELS)]))
        if bad:
            raise AnnotationInputError(
                f"{path}: column {column!r} holds label(s) {bad[:5]} outside {list(LABELS)}"
            )
        frame[column] = values


def select_for_annotation(predictions_csv: str | os.PathLike, size: int) -> pd.DataFrame:
    """The ``size`` clips to annotate, class-balanced over the majority labels.

    ``predictions_csv``: ``name`` plus one column per system holding its predicted label.
    Returns ``name, majority, score, votes`` (score = share of the majority label), sorted
    by majority label then descending score. Each class gets ``size // 6`` of its
    best-scored clips (fewer if it has fewer); remaining places go to the best-scored
    clips left, whatever their class. Ties break by name, so the choice is deterministic.
    """
    if size < 1:
        raise ValueError(f"annotation size must be >= 1, got {size}")
    frame = _read_csv(predictions_csv)
    systems = [c for c in frame.columns if c != "name"]
    if not systems:
        raise AnnotationInputError(f"{predictions_csv}: no prediction columns besides 'name'")
    _check_labels(predictions_csv, frame, systems)
    rows = []
    for name, *votes in frame[["name", *systems]].itertuples(index=False):
        counts = Counter(votes)
        # most common label; ties go to the label listed first in LABELS
        majority = max(counts, key=lambda lab: (counts[lab], -LABELS.index(lab)))
        rows.append((name, majority, counts[majority] / len(votes), len(votes)))
    scored = pd.DataFrame(rows, columns=["name", "majority", "score", "votes"])
    scored = scored.sort_values(["score", "name"], ascending=[False, True], kind="stable")
    per_class = size // len(LABELS)
    chosen = scored.groupby("majority", sort=False).head(per_class)
    rest = scored.drop(chosen.index).head(size - len(chosen))
    out = pd.concat([chosen, rest])
    order = {lab: i for i, lab in enumerate(LABELS)}
    out = out.assign(_o=out["majority"].map(order))
    out = out.sort_values(["_o", "score", "name"], ascending=[True, False, True])
    return out.drop(columns="_o").reset_index(drop=True)


def agree_labels(annotator_csvs: list[str | os.PathLike], min_agree: int) -> pd.DataFrame:
    """Clips on which at least ``min_agree`` annotators give the same label.

    Each file: ``name, discrete``. A clip missing from some files counts those annotators
    as not agreeing. Returns ``name, discrete, agree, annotators`` for every clip seen
    (``discrete`` null where fewer than ``min_agree`` agree); filter on it to keep.
    """
    if not annotator_csvs:
        raise ValueError("agree_labels needs at least one annotator file")
    if not 1 <= min_agree <= len(annotator_csvs):
        raise ValueError(
            f"min_agree must be between 1 and the number of annotators "
            f"({len(annotator_csvs)}), got {min_agree}"
        )
    votes: dict[str, list[str]] = {}
    for path in annotator_csvs:
        frame = _read_csv(path)
        if "discrete" not in frame.columns:
            raise AnnotationInputError(
                f"{path}: no 'discrete' column (found {list(frame.columns)})"
            )
        _check_labels(path, frame, ["discrete"])
        for name, label in frame[["name", "discrete"]].itertuples(index=False):
            votes.setdefault(name, []).append(label)
    rows = []
    for name in sorted(votes):
        counts = Counter(votes[name])
        label, n = max(counts.items(), key=lambda kv: (kv[1], -LABELS.index(kv[0])))
        rows.append((name, label if n >= min_agree else None, n, len(annotator_csvs)))
    return pd.DataFrame(rows, columns=["name", "discrete", "agree", "annotators"])
