"""The emotion timeline of one video (rule ``predict_apply_turns``): the fusion model's
prediction for each turn's clip (:func:`merlib.fusion.prediction.predict_manifest`, the
softmax of the mean of the fold models' logits, exactly as for the release's unlabelled
pool), joined with the turns, their transcripts and every reason a modality is missing;
and the per-speaker summary (share of speaking time per emotion)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from ..fusion.dataset import FeatureSources
from ..fusion.prediction import predict_manifest
from ..labels import LABELS, PROB_COLUMNS
from ..schemas import APPLY_SUMMARY, APPLY_TIMELINE, MANIFEST, read_table, table_from_rows


def _notes_by_name(table: pa.Table | None, what) -> dict[str, list[str]]:
    notes: dict[str, list[str]] = {}
    for row in table.to_pylist() if table is not None else []:
        notes.setdefault(row["name"], []).append(what(row))
    return notes


def build_timeline(
    turns: pa.Table,
    manifest_path: str | os.PathLike,
    checkpoint: Mapping,
    sources: FeatureSources,
    modalities: Mapping[str, str],
    transcripts: pa.Table | None = None,
    media_rejects: pa.Table | None = None,
    feature_rejects: Mapping[str, pa.Table] | None = None,
) -> pa.Table:
    """One :data:`APPLY_TIMELINE` row per turn, in time order. ``modalities`` maps each of
    the model's features to its modality. A turn that was not exported, or whose clip has
    no usable feature (the prediction would be the training class prior), has no label and
    a note saying why."""
    features = list(checkpoint["features"])
    manifest = read_table(manifest_path, MANIFEST)
    names = manifest.column("name").to_pylist()
    run = predict_manifest(manifest_path, checkpoint, sources)
    probs = {r["name"]: r for r in run.predictions.to_pylist()}
    fallback = {r["name"]: r["reason"] for r in run.fallbacks.to_pylist()}
    present: dict[str, list[str]] = {n: [] for n in names}
    if names:
        _, mask, flags = sources.load(names, features)
        for f in features:
            ok = np.asarray(mask[f], dtype=bool)
            if f in flags:
                ok &= np.array([v is None for v in flags[f]], dtype=bool)
            for n, good in zip(names, ok, strict=True):
                if good and modalities[f] not in present[n]:
                    present[n].append(modalities[f])
    texts = {r["name"]: r for r in (transcripts.to_pylist() if transcripts is not None else [])}
    notes = _notes_by_name(media_rejects, lambda r: f"no {r['modality']}: {r['reason']}")
    for f, table in (feature_rejects or {}).items():
        for n, reasons in _notes_by_name(table, lambda r, f=f: f"{f}: {r['reason']}").items():
            notes.setdefault(n, []).extend(reasons)
    rows = []
    for turn in sorted(turns.to_pylist(), key=lambda r: (r["start"], r["name"])):
        name = turn["name"]
        note = [turn["note"]] if turn["note"] else []
        note += notes.get(name, [])
        text = texts.get(name)
        if text is not None and text["reason"]:
            note.append(f"empty text: {text['reason']}")
        row = {
            "video": turn["video"],
            "name": name,
            "start": turn["start"],
            "end": turn["end"],
            "speaker": turn["speaker"],
            "face_track": turn["face_track"],
            "text": text["text"] if text is not None else None,
            "label": None,
            "confidence": None,
            "modalities": ",".join(sorted(present.get(name, []))),
        } | dict.fromkeys(PROB_COLUMNS)
        if name in fallback:
            note.append(f"not predicted: {fallback[name]}")
        elif name in probs:
            p = probs[name]
            row |= {c: p[c] for c in PROB_COLUMNS}
            row["label"] = p["discrete"]
            row["confidence"] = p[f"p_{p['discrete']}"]
        elif turn["usable"]:
            raise AssertionError(f"turn {name} was exported but has no prediction")
        row["note"] = "; ".join(dict.fromkeys(note)) or None
        rows.append(row)
    return table_from_rows(rows, APPLY_TIMELINE)


def summarise(timeline: pa.Table) -> pa.Table:
    """:data:`APPLY_SUMMARY`: per speaker (a turn without speaker counts as ``unknown``)
    its turns, predicted seconds and each emotion's share of them."""
    by: dict[tuple, dict] = {}
    for r in timeline.to_pylist():
        key = (r["video"], r["speaker"] or "unknown")
        s = by.setdefault(key, {"turns": 0, "seconds": 0.0, "unpredicted_turns": 0, "time": {}})
        s["turns"] += 1
        if r["label"] is None:
            s["unpredicted_turns"] += 1
            continue
        length = r["end"] - r["start"]
        s["seconds"] += length
        s["time"][r["label"]] = s["time"].get(r["label"], 0.0) + length
    rows = []
    for (video, speaker), s in sorted(by.items()):
        total = s["seconds"]
        rows.append(
            {"video": video, "speaker": speaker}
            | {k: s[k] for k in ("turns", "seconds", "unpredicted_turns")}
            | {
                f"share_{lab}": (s["time"].get(lab, 0.0) / total if total else 0.0)
                for lab in LABELS
            }
        )
    return table_from_rows(rows, APPLY_SUMMARY)


def write_csv(table: pa.Table, path: str | os.PathLike) -> None:
    """``table`` as CSV with a header (nulls empty), written atomically."""
    import pyarrow.csv as pacsv

    from ..atomic import atomic_path

    with atomic_path(path) as tmp:
        pacsv.write_csv(table, tmp)
