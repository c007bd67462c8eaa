"""The release (``data_root``) and the test labels, checked before any job.

:func:`release_problems` reads only folder listings and the CSVs' text (cheap at 115k
clips) and returns one sentence per mistake, each naming the file, the line or column,
and the fix; :mod:`merlib.config_check` adds them to the config's own problems, so that
every mistake comes in one message before Snakemake plans a job. Per-clip problems that
cost one clip and not the run (a duplicate name, a label without a video, a video that
does not decode) stay findings of ingest and media (their rejects tables).

A release without ``label-transcription.csv`` is not a mistake while ASR is on
(``transcripts.asr``): every clip's text then comes from ASR.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .ingest import (
    LABELED_DIR,
    LABELS_CSV,
    TRANSCRIPTION_CSV,
    UNLABELED_DIR,
    VIDEO_SUFFIX,
    IngestError,
    read_csv_rows,
)

# lines of a CSV shown per kind of problem
SHOWN_LINES = 3


def _videos(folder: Path) -> list[str]:
    """Names of the ``.mp4`` files in ``folder`` (none when it is missing)."""
    if not folder.is_dir():
        return []
    return [
        e.name[: -len(VIDEO_SUFFIX)] for e in os.scandir(folder) if e.name.endswith(VIDEO_SUFFIX)
    ]


def _folders(root: Path) -> list[str]:
    return sorted(e.name + "/" for e in os.scandir(root) if e.is_dir())


def _some(items: Sequence[str], n: int = SHOWN_LINES) -> str:
    shown = ", ".join(repr(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def _read(path: Path, columns: tuple[str, ...], problems: list[str]) -> list[dict] | None:
    """The CSV's rows, or None with a sentence in ``problems`` (missing columns, encoding)."""
    try:
        rows, _ = read_csv_rows(path, columns)
    except IngestError as error:
        problems.append(
            f"{error}: please name the columns {', '.join(columns)} on line 1 of {path.name}"
        )
        return None
    return rows


def _unknown_labels(path: Path, rows: list[dict], labels: Sequence[str]) -> list[str]:
    bad = [r for r in rows if (r["discrete"] or "").strip().lower() not in labels]
    if not bad:
        return []
    lines = ", ".join(f"line {r['__line']} ({r['discrete']!r})" for r in bad[:SHOWN_LINES])
    more = f" and {len(bad) - SHOWN_LINES} more" if len(bad) > SHOWN_LINES else ""
    return [
        f"{path}, column discrete: {len(bad)} label(s) outside the label set "
        f"({', '.join(labels)}): {lines}{more}; please correct them, or set labels in the "
        "config to the release's label set"
    ]


def release_problems(
    data_root: str | os.PathLike, labels: Sequence[str], asr: bool = True
) -> list[str]:
    """One sentence per mistake of the MER2024-layout folder ``data_root`` (see module doc)."""
    root = Path(data_root)
    if not root.is_dir():
        return [
            f"data_root {str(root)!r} is not a folder: please point data_root at a "
            f"MER2024-layout folder ({LABELED_DIR}/, {UNLABELED_DIR}/, {LABELS_CSV}, "
            f"{TRANSCRIPTION_CSV})"
        ]
    problems: list[str] = []
    videos: dict[str, list[str]] = {}
    for name in (LABELED_DIR, UNLABELED_DIR):
        folder = root / name
        if not folder.is_dir():
            problems.append(
                f"{folder}/ is missing (folders found in {root}: "
                f"{', '.join(_folders(root)) or 'none'}): please put the release's "
                f"<name>{VIDEO_SUFFIX} files there, or rename the folder that holds them"
            )
            continue
        videos[name] = _videos(folder)
        if not videos[name]:
            problems.append(
                f"{folder}/ holds no {VIDEO_SUFFIX} file: please put the release's videos there"
            )
    labels_csv = root / LABELS_CSV
    if not labels_csv.is_file():
        problems.append(
            f"{labels_csv} is missing: please add it (columns name, discrete: one row per "
            f"video of {LABELED_DIR}/)"
        )
    else:
        rows = _read(labels_csv, ("name", "discrete"), problems)
        if rows is not None:
            problems += _unknown_labels(labels_csv, rows, labels)
            labelled = videos.get(LABELED_DIR) or []
            named = {r["name"] for r in rows}
            if labelled and not named.intersection(labelled):
                problems.append(
                    f"none of the {len(labelled)} videos of {root / LABELED_DIR}/ has a row in "
                    f"{labels_csv} (videos: {_some(sorted(labelled))}; names in column name: "
                    f"{_some([r['name'] for r in rows]) or 'none'}): please name each row "
                    f"after its video's file name without {VIDEO_SUFFIX}"
                )
    text_csv = root / TRANSCRIPTION_CSV
    if text_csv.is_file():
        _read(text_csv, ("name", "chinese"), problems)
    elif not asr:
        problems.append(
            f"{text_csv} is missing and transcripts.asr is false, so no clip would have a "
            "text: please add the file (columns name, chinese) or turn transcripts.asr on"
        )
    return problems


def labels_csv_problems(path: str | os.PathLike, labels: Sequence[str]) -> list[str]:
    """Sentences on ``evaluate.test_labels``: missing, without its columns, labels outside."""
    path = Path(path)
    if not path.is_file():
        return [
            f"evaluate.test_labels: {path} is not a file: please point it at a CSV with "
            "columns name, discrete (the unlabelled clips' labels), or set it to null"
        ]
    problems: list[str] = []
    rows = _read(path, ("name", "discrete"), problems)
    if rows is not None:
        problems += _unknown_labels(path, rows, labels)
    return problems


def input_problems(config: Mapping, labels: Sequence[str]) -> list[str]:
    """The release's and the test labels' problems, for a config with its defaults.

    A release the workflow makes itself (the demo corpus, collect's output) does not
    exist before its jobs run: it is not checked.
    """
    data_root = os.path.normpath(config["data_root"])
    made_here = {os.path.normpath(config["demo"]["root"])}
    if config["collect"].get("videos_dir"):
        made_here.add(os.path.normpath(config["collect"]["output_root"]))
    problems = []
    if data_root not in made_here:
        problems += release_problems(data_root, labels, asr=config["transcripts"]["asr"])
    test_labels = config["evaluate"]["test_labels"]
    if test_labels:
        problems += labels_csv_problems(test_labels, labels)
    return problems


__all__ = ["input_problems", "release_problems", "labels_csv_problems"]
