"""Every clip accounted for: one row per clip saying what became of it and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyarrow as pa

from .schemas import ACCOUNTING, table_from_rows

TRAINED, PREDICTED, FALLBACK, EXCLUDED = "trained", "predicted", "fallback", "excluded"


def text_sources(tables: Iterable[pa.Table]) -> dict[str, str]:
    """Clip name -> source, over the TRANSCRIPTS tables of all shards.

    Here, not in merlib.transcripts (which decodes audio for ASR): accounting runs in the
    evaluate env, which has no OpenCV or Whisper.
    """
    sources: dict[str, str] = {}
    for table in tables:
        sources.update(
            zip(table.column("name").to_pylist(), table.column("source").to_pylist(), strict=True)
        )
    return sources


def account_clips(
    manifest: pa.Table,
    ingest_findings: pa.Table,
    media_rejects: list[pa.Table],
    feature_rejects: dict[str, list[pa.Table]],
    excluded_from_training: list[dict],
    fallbacks: pa.Table,
    feature_flags: dict[str, list[pa.Table]] | None = None,
    text_sources: dict[str, str] | None = None,
) -> pa.Table:
    """Join what every stage recorded into one status and one detail per clip.

    ``detail`` lists, in pipeline order, every problem recorded for the clip (ingest,
    media per modality, features: rejects, then flags such as an empty transcription's
    zero vector), also for clips that were still used. ``text_sources`` (clip name ->
    TRANSCRIPTS source: release, asr or none) fills ``text_source``: which text the
    clip's text features read.
    """
    notes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in ingest_findings.to_pylist():
        notes[(row["split"], row["name"])].append(f"ingest: {row['reason']}")
    by_name: dict[str, list[str]] = defaultdict(list)
    for table in media_rejects:
        for row in table.to_pylist():
            by_name[row["name"]].append(f"media ({row['modality']}): {row['reason']}")
    for feature, tables in feature_rejects.items():
        for table in tables:
            for row in table.to_pylist():
                by_name[row["name"]].append(f"feature {feature}: {row['reason']}")
    for feature, tables in (feature_flags or {}).items():
        for table in tables:
            for row in table.to_pylist():
                by_name[row["name"]].append(f"feature {feature}: flagged {row['flag']}")
    not_trained = {r["name"]: r["reason"] for r in excluded_from_training}
    fell_back = dict(zip(*fallbacks.select(["name", "reason"]).to_pydict().values(), strict=True))

    rows = []
    in_manifest = set()
    for clip in manifest.select(["name", "split"]).to_pylist():
        name, split = clip["name"], clip["split"]
        in_manifest.add((split, name))
        details = notes.get((split, name), []) + by_name.get(name, [])
        if split == "labeled":
            if name in not_trained:
                status = EXCLUDED
                details.append(f"training: {not_trained[name]}")
            else:
                status = TRAINED
        elif name in fell_back:
            status = FALLBACK
            details.append(f"prediction: {fell_back[name]}")
        else:
            status = PREDICTED
        rows.append(
            {
                "name": name,
                "split": split,
                "status": status,
                "detail": _join(details),
                "text_source": (text_sources or {}).get(name),
            }
        )
    for (split, name), details in notes.items():
        if (split, name) not in in_manifest:
            rows.append(
                {"name": name, "split": split, "status": EXCLUDED, "detail": _join(details)}
            )
    rows.sort(key=lambda r: (r["split"], r["name"], r["status"]))
    return table_from_rows(rows, ACCOUNTING)


def _join(details: list[str]) -> str | None:
    return "; ".join(details) if details else None


def status_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    """{split: {status: count}} of an accounting table."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in table.select(["split", "status"]).to_pylist():
        counts[row["split"]][row["status"]] += 1
    return {split: dict(c) for split, c in counts.items()}


def text_source_counts(table: pa.Table) -> dict[str, int]:
    """{text source: clips} of an accounting table (release, asr, none): how many texts
    came from ASR (every one, for a release without label-transcription.csv)."""
    counts: dict[str, int] = defaultdict(int)
    for source in table.column("text_source").to_pylist():
        if source is not None:
            counts[source] += 1
    return dict(sorted(counts.items()))
