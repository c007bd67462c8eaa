"""The accounting table gives every clip exactly one status, with every recorded reason."""

from __future__ import annotations

from merlib.accounting import account_clips, status_counts, text_source_counts, text_sources
from merlib.schemas import (
    FALLBACKS,
    FEATURE_FLAGS,
    FEATURE_REJECTS,
    INGEST_REJECTS,
    MANIFEST,
    MEDIA_REJECTS,
    TRANSCRIPTS,
    table_from_rows,
)


def manifest_row(name, split, label=None):
    return {
        "name": name,
        "split": split,
        "path": f"x/{name}.mp4",
        "discrete": label,
        "transcription": None,
        "shard": "000",
    }


def test_every_clip_gets_one_status_with_all_its_reasons():
    manifest = table_from_rows(
        [
            manifest_row("a1", "labeled", "happy"),
            manifest_row("a2", "labeled", "sad"),
            manifest_row("u1", "unlabeled"),
            manifest_row("u2", "unlabeled"),
        ],
        MANIFEST,
    )
    findings = table_from_rows(
        [
            {
                "name": "bad",
                "split": "labeled",
                "path": "p",
                "reason": "unknown label",
                "excluded": True,
            },
            {
                "name": "u1",
                "split": "unlabeled",
                "path": "p",
                "reason": "text empty",
                "excluded": False,
            },
        ],
        INGEST_REJECTS,
    )
    media = [
        table_from_rows(
            [
                {"name": "a2", "modality": "audio", "reason": "no audio track"},
                {"name": "a2", "modality": "visual", "reason": "moov atom not found"},
                {"name": "u2", "modality": "visual", "reason": "no face"},
            ],
            MEDIA_REJECTS,
        )
    ]
    feature_rejects = {
        "fer": [table_from_rows([{"name": "u2", "reason": "no faces"}], FEATURE_REJECTS)]
    }
    excluded = [{"name": "a2", "reason": "no feature"}]
    fallbacks = table_from_rows([{"name": "u2", "reason": "no feature at all"}], FALLBACKS)

    flags = {
        "use_m3": [table_from_rows([{"name": "u1", "flag": "empty_transcription"}], FEATURE_FLAGS)]
    }
    table = account_clips(manifest, findings, media, feature_rejects, excluded, fallbacks, flags)
    rows = {(r["split"], r["name"]): r for r in table.to_pylist()}
    assert len(rows) == table.num_rows == 5
    assert (
        rows[("labeled", "a1")]["status"] == "trained" and rows[("labeled", "a1")]["detail"] is None
    )
    assert rows[("labeled", "a2")]["status"] == "excluded"
    assert "no audio track" in rows[("labeled", "a2")]["detail"]
    assert "training: no feature" in rows[("labeled", "a2")]["detail"]
    assert rows[("labeled", "bad")]["status"] == "excluded"
    assert rows[("unlabeled", "u1")]["status"] == "predicted"
    assert rows[("unlabeled", "u1")]["detail"] == (
        "ingest: text empty; feature use_m3: flagged empty_transcription"
    )
    assert rows[("unlabeled", "u2")]["status"] == "fallback"
    assert "feature fer: no faces" in rows[("unlabeled", "u2")]["detail"]
    assert status_counts(table) == {
        "labeled": {"trained": 1, "excluded": 2},
        "unlabeled": {"predicted": 1, "fallback": 1},
    }


def test_text_sources_are_counted_per_source():
    manifest = table_from_rows(
        [manifest_row("a1", "labeled", "happy"), manifest_row("u1", "unlabeled"),
         manifest_row("u2", "unlabeled")],
        MANIFEST,
    )  # fmt: skip
    empty = table_from_rows([], FALLBACKS)
    table = account_clips(
        manifest,
        table_from_rows([], INGEST_REJECTS),
        [],
        {},
        [],
        empty,
        text_sources={"a1": "asr", "u1": "asr", "u2": "release"},
    )
    assert text_source_counts(table) == {"asr": 2, "release": 1}


def test_text_sources_map_each_clip_to_its_transcript_source_over_all_shards():
    shards = [
        table_from_rows([{"name": "b", "text": "二", "source": "asr"}], TRANSCRIPTS),
        table_from_rows([{"name": "a", "text": "", "source": "none"}], TRANSCRIPTS),
    ]
    assert text_sources(shards) == {"a": "none", "b": "asr"}
