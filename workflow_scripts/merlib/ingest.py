"""Ingest a MER2024-layout release into a clip manifest and a table of what was wrong.

The layout (``data_root``)::

    video-labeled/<name>.mp4
    label-disdim.csv                      name,discrete
    label-transcription.csv               name,chinese
    video-unlabeled-with-test2noise/<name>.mp4

Ingest only reads names, CSVs and directory listings (cheap at 120k clips). Whether a
video decodes is found out per shard by media extraction, which records its own reasons.

Every clip is accounted for: a clip is either in the manifest or has a row with
``excluded=True`` in the findings table. Unlabelled clips are never excluded for a label
or transcription problem, because the submission must cover every one of them.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .labels import LABELS
from .schemas import INGEST_REJECTS, MANIFEST, table_from_rows
from .shards import shard_of

LABELED_DIR = "video-labeled"
UNLABELED_DIR = "video-unlabeled-with-test2noise"
LABELS_CSV = "label-disdim.csv"
TRANSCRIPTION_CSV = "label-transcription.csv"
VIDEO_SUFFIX = ".mp4"

LABELED = "labeled"
UNLABELED = "unlabeled"

# A plain clip name: no path separators, no control characters, not "." or "..".
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


class IngestError(ValueError):
    """The release cannot be ingested at all (missing file, missing columns...)."""


def plain_name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain clip name, or None when it is."""
    if not name or not name.strip():
        return "empty name"
    if name != name.strip():
        return f"name {name!r} has leading or trailing whitespace"
    if name in (".", "..") or _BAD_NAME.search(name):
        return f"name {name!r} is not a plain file name (path separators or control characters)"
    if name.startswith("."):
        return f"name {name!r} is a hidden file name"
    return None


def _read_csv_rows(path: Path, required: tuple[str, ...]) -> tuple[list[dict], str]:
    """Rows of a CSV as dicts (values stripped), checking the required columns.

    UTF-16 needs a BOM. Otherwise the file is read as UTF-8 (BOM or not) and any value
    that is not valid UTF-8 is decoded as GB18030, as Chinese subtitles often are, value by
    value, so that one bad row costs one field, not the release. A value that is neither
    gets ``None`` and the row a ``__bad_encoding`` key naming the column.
    Returns the rows and a word on the encoding found.
    """
    if not path.is_file():
        raise IngestError(f"{path}: required file is missing")
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{path}: has a UTF-16 byte-order mark but is not UTF-16") from exc
    else:
        text = raw.decode("utf-8", errors="surrogateescape")
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}"
        )
    reader.fieldnames = header
    rows = []
    redecoded = 0
    for row in reader:
        clean = {"__line": reader.line_num}
        for key in required:
            value = row.get(key)
            value = value.strip() if isinstance(value, str) else None
            if value is not None and _has_surrogates(value):
                value = _redecode(value)
                if value is None:
                    clean["__bad_encoding"] = key
                else:
                    redecoded += 1
            clean[key] = value
        rows.append(clean)
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    if redecoded:
        encoding += f" ({redecoded} value(s) decoded as GB18030)"
    return rows, encoding


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _redecode(value: str) -> str | None:
    raw = value.encode("utf-8", errors="surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return None


@dataclass
class IngestResult:
    manifest: pa.Table
    findings: pa.Table
    notes: list[str] = field(default_factory=list)


def _list_videos(folder: Path, split: str, findings: list[dict]) -> dict[str, str]:
    """Map clip name -> relative path for every ``.mp4`` in ``folder``; others are findings."""
    videos: dict[str, str] = {}
    if not folder.is_dir():
        return videos
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        rel = f"{folder.name}/{entry.name}"
        if not entry.name.endswith(VIDEO_SUFFIX):
            findings.append(_finding(entry.name, split, rel, "not an .mp4 file; ignored"))
            continue
        name = entry.name[: -len(VIDEO_SUFFIX)]
        problem = plain_name_problem(name)
        if problem:
            findings.append(_finding(name, split, rel, problem))
            continue
        if not entry.is_file():
            findings.append(_finding(name, split, rel, "not a regular file"))
            continue
        videos[name] = rel
    return videos


def _finding(name: str, split: str, path: str, reason: str, excluded: bool = True) -> dict:
    return {"name": name, "split": split, "path": path, "reason": reason, "excluded": excluded}


def ingest_release(data_root: str | os.PathLike, n_shards: int) -> IngestResult:
    """Build the clip manifest and findings for the MER2024-layout folder ``data_root``."""
    root = Path(data_root)
    if not root.is_dir():
        raise IngestError(f"{root}: data_root is not a folder")
    labeled_dir, unlabeled_dir = root / LABELED_DIR, root / UNLABELED_DIR
    if not labeled_dir.is_dir() and not unlabeled_dir.is_dir():
        raise IngestError(
            f"{root}: neither {LABELED_DIR}/ nor {UNLABELED_DIR}/ exists; "
            "is data_root a MER2024-layout folder?"
        )
    findings: list[dict] = []
    notes: list[str] = []
    labeled_videos = _list_videos(labeled_dir, LABELED, findings)
    unlabeled_videos = _list_videos(unlabeled_dir, UNLABELED, findings)

    labels = _read_labels(root / LABELS_CSV, labeled_videos, findings)
    texts, encoding = _read_transcriptions(
        root / TRANSCRIPTION_CSV, labeled_videos, unlabeled_videos, findings
    )
    notes.append(f"{TRANSCRIPTION_CSV} decoded as {encoding}")

    rows = []
    for name, rel in labeled_videos.items():
        if name in unlabeled_videos:
            findings.append(
                _finding(
                    name,
                    LABELED,
                    rel,
                    f"also in {UNLABELED_DIR}/; kept only in the unlabelled pool "
                    "so that it is predicted and never trained on",
                )
            )
            continue
        label = labels.get(name)
        if label is None:
            continue  # its finding was recorded by _read_labels
        rows.append(_manifest_row(name, LABELED, rel, label, texts.get(name), n_shards))
    for name, rel in unlabeled_videos.items():
        rows.append(_manifest_row(name, UNLABELED, rel, None, texts.get(name), n_shards))
    rows.sort(key=lambda r: (r["split"], r["name"]))
    findings.sort(key=lambda r: (r["split"], r["name"], r["reason"]))
    return IngestResult(
        manifest=table_from_rows(rows, MANIFEST),
        findings=table_from_rows(findings, INGEST_REJECTS),
        notes=notes,
    )


def _manifest_row(name, split, rel, label, text, n_shards) -> dict:
    return {
        "name": name,
        "split": split,
        "path": rel,
        "discrete": label,
        "transcription": text,
        "shard": shard_of(name, n_shards),
    }


def _read_labels(path: Path, videos: dict[str, str], findings: list[dict]) -> dict[str, str]:
    """Labels of labelled videos; every problem becomes a finding that excludes the clip."""
    if not videos and not path.exists():
        return {}
    rows, _ = _read_csv_rows(path, ("name", "discrete"))
    counts = Counter(r["name"] for r in rows)
    lines = defaultdict(list)
    for r in rows:
        lines[r["name"]].append(r["__line"])
    labels: dict[str, str] = {}
    for r in rows:
        name, raw_label = r["name"] or "", r["discrete"]
        if r.get("__bad_encoding"):
            findings.append(
                _finding(name or "?", LABELED, LABELS_CSV, f"line {r['__line']}: not valid text")
            )
            continue
        rel = videos.get(name, f"{LABELED_DIR}/{name}{VIDEO_SUFFIX}")
        where = f"{LABELS_CSV} line {r['__line']}"
        problem = plain_name_problem(name)
        if problem:
            findings.append(_finding(name, LABELED, rel, f"{where}: {problem}"))
            continue
        if counts[name] > 1:
            if r["__line"] == lines[name][0]:
                findings.append(
                    _finding(
                        name,
                        LABELED,
                        rel,
                        f"{LABELS_CSV}: duplicate name on lines "
                        f"{', '.join(map(str, lines[name]))}; which label is right is unknown",
                    )
                )
            continue
        label = (raw_label or "").strip().lower()
        if label not in LABELS:
            findings.append(
                _finding(
                    name,
                    LABELED,
                    rel,
                    f"{where}: unknown label {raw_label!r} (expected one of {', '.join(LABELS)})",
                )
            )
            continue
        if name not in videos:
            findings.append(_finding(name, LABELED, rel, f"{where}: labelled but no video {rel}"))
            continue
        labels[name] = label
    for name, rel in videos.items():
        if name not in counts:
            findings.append(_finding(name, LABELED, rel, f"video has no row in {LABELS_CSV}"))
    return labels


def _read_transcriptions(
    path: Path,
    labeled: dict[str, str],
    unlabeled: dict[str, str],
    findings: list[dict],
) -> tuple[dict[str, str], str]:
    """Transcriptions by name. Text problems never exclude a clip: its text becomes empty."""
    rows, encoding = _read_csv_rows(path, ("name", "chinese"))
    counts = Counter(r["name"] for r in rows)
    texts: dict[str, str] = {}
    for r in rows:
        name = r["name"] or ""
        split, rel = _locate(name, labeled, unlabeled)
        where = f"{TRANSCRIPTION_CSV} line {r['__line']}"
        if split is None:
            problem = plain_name_problem(name) or "no such clip in either video folder"
            findings.append(_finding(name, "unknown", TRANSCRIPTION_CSV, f"{where}: {problem}"))
            continue
        if counts[name] > 1:
            if name not in texts:
                texts[name] = None  # reported once below
                findings.append(
                    _finding(
                        name,
                        split,
                        rel,
                        f"{TRANSCRIPTION_CSV}: duplicate name; transcription treated as empty",
                        excluded=False,
                    )
                )
            continue
        if r.get("__bad_encoding"):
            findings.append(
                _finding(
                    name,
                    split,
                    rel,
                    f"{where}: transcription is neither UTF-8 nor GB18030; treated as empty",
                    excluded=False,
                )
            )
            texts[name] = None
            continue
        texts[name] = r["chinese"]
    return {k: v for k, v in texts.items() if v is not None}, encoding


def _locate(name: str, labeled: dict, unlabeled: dict) -> tuple[str | None, str | None]:
    if name in unlabeled:
        return UNLABELED, unlabeled[name]
    if name in labeled:
        return LABELED, labeled[name]
    return None, None
