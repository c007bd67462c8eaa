"""The clips MER2024 scores: a candidate list (``evaluate.candidates``).

MER2024 predicts every one of the 115,595 pool clips but scores a 20,000-clip candidate
subset of them. ``evaluate.candidates`` names that subset: a text file of one clip name per
line, or a CSV with a ``name`` column. Scoring (test metrics, the test confusion, MER-NOISE
robustness) keeps only the labelled clips in that list; prediction and the submission still
cover every clip.

* :func:`read_candidates`: the names of the list, checked (plain names, no duplicates).
* :func:`release_names`: the clip names of a MER2024-layout folder (a directory listing).
* :func:`unknown_candidates_problem`: the sentence for names the release does not have.
* :func:`restrict_to_candidates`: the test labels kept for scoring.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

import pandas as pd

from .ingest import LABELED_DIR, UNLABELED_DIR, VIDEO_SUFFIX, plain_name_problem

SHOWN = 5


class CandidatesError(ValueError):
    """The candidate list cannot be used (unreadable, bad names, names not in the release)."""


def _strip_suffix(name: str) -> str:
    return name[: -len(VIDEO_SUFFIX)] if name.lower().endswith(VIDEO_SUFFIX) else name


def read_candidates(path: str | os.PathLike) -> list[str]:
    """Clip names of ``path``: a CSV whose header has a ``name`` column, else one name per
    line (blank lines skipped; a trailing ``.mp4`` is dropped). Raises
    :class:`CandidatesError` naming the file for an empty list, a bad or repeated name."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CandidatesError(
            f"evaluate.candidates {os.fspath(path)!r}: cannot read: {exc}"
        ) from None
    lines = [line for line in lines if line.strip()]
    header = next(csv.reader(lines[:1]), [])
    if "name" in [h.strip() for h in header]:
        column = [h.strip() for h in header].index("name")
        names = [row[column].strip() if len(row) > column else "" for row in csv.reader(lines[1:])]
    else:
        names = [line.strip() for line in lines]
    names = [_strip_suffix(n) for n in names]
    if not names:
        raise CandidatesError(f"evaluate.candidates {os.fspath(path)!r}: no clip names in it")
    for i, name in enumerate(names):
        problem = plain_name_problem(name)
        if problem:
            raise CandidatesError(
                f"evaluate.candidates {os.fspath(path)!r}, entry {i + 1}: {problem}"
            )
    seen: set[str] = set()
    repeated = [n for n in names if n in seen or seen.add(n)]
    if repeated:
        raise CandidatesError(
            f"evaluate.candidates {os.fspath(path)!r}: {len(repeated)} names appear twice, "
            f"e.g. {', '.join(repeated[:SHOWN])}"
        )
    return names


def release_names(data_root: str | os.PathLike) -> set[str]:
    """Names of the videos of a MER2024-layout folder (labelled and unlabelled)."""
    names: set[str] = set()
    for folder in (LABELED_DIR, UNLABELED_DIR):
        path = os.path.join(data_root, folder)
        if os.path.isdir(path):
            names.update(
                n[: -len(VIDEO_SUFFIX)] for n in os.listdir(path) if n.endswith(VIDEO_SUFFIX)
            )
    return names


def unknown_candidates_problem(
    candidates: Iterable[str], known: Iterable[str], where: str, path: str | os.PathLike
) -> str | None:
    """One sentence when some candidate names are not in ``known`` (the clips of
    ``where``): counts and the first names; None when all are known."""
    candidates = list(candidates)
    known = set(known)
    unknown = [n for n in candidates if n not in known]
    if not unknown:
        return None
    return (
        f"evaluate.candidates {os.fspath(path)!r}: {len(unknown)} of {len(candidates)} names "
        f"are not clips of {where}, e.g. {', '.join(unknown[:SHOWN])}"
    )


def check_candidates(path: str | os.PathLike, known: Iterable[str], where: str) -> list[str]:
    """:func:`read_candidates`, raising :class:`CandidatesError` for names not in ``known``."""
    names = read_candidates(path)
    problem = unknown_candidates_problem(names, known, where, path)
    if problem:
        raise CandidatesError(problem)
    return names


def restrict_to_candidates(labels: pd.DataFrame, candidates: Iterable[str] | None) -> pd.DataFrame:
    """The rows of ``labels`` (``name, discrete``) whose clip is a candidate; all of them
    when ``candidates`` is None. Raises :class:`CandidatesError` when none is left."""
    if candidates is None:
        return labels
    keep = labels["name"].isin(set(candidates))
    if not keep.any():
        raise CandidatesError(
            f"none of the {len(labels)} test-label clips is in evaluate.candidates: "
            "nothing to score"
        )
    return labels[keep].reset_index(drop=True)


def scored_labels(
    labels: pd.DataFrame, path: str | os.PathLike | None, predicted: Iterable[str]
) -> tuple[pd.DataFrame, dict | None]:
    """Test labels restricted to the candidate list at ``path`` (unchanged when None), and
    a summary of the restriction. Every candidate must be a predicted pool clip
    (``predicted``), so a list that does not fit the run fails here too."""
    if not path:
        return labels, None
    names = check_candidates(path, predicted, "the predicted pool")
    kept = restrict_to_candidates(labels, names)
    return kept, {"n_names": len(names), "n_scored": len(kept), "n_labels": len(labels)}


__all__ = [
    "scored_labels",
    "CandidatesError",
    "check_candidates",
    "read_candidates",
    "release_names",
    "restrict_to_candidates",
    "unknown_candidates_problem",
]
