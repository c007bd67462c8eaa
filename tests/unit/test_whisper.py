"""Offline Whisper-base: assembled from its two wheels, and the ASR fallback of collection."""

from __future__ import annotations

import pytest
from test_collect import scenes, segments_of  # noqa: F401 (module fixture reused)

from merlib import collect
from merlib.whisper import Transcriber, resolve_whisper_model


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


def test_offline_base_is_assembled_once_and_other_ids_pass_through(model_cache, tmp_path):
    path = resolve_whisper_model("base", model_cache)
    files = {p.name: p.stat() for p in (model_cache / "whisper-base").iterdir()}
    assert set(files) == {"config.json", "tokenizer.json", "vocabulary.txt", "model.bin"}
    assert files["model.bin"].st_size > 100_000_000
    assert resolve_whisper_model("Systran/faster-whisper-base", model_cache) == path
    assert (model_cache / "whisper-base" / "model.bin").stat().st_mtime == files[
        "model.bin"
    ].st_mtime
    assert resolve_whisper_model("large-v3", model_cache) == "large-v3"
    assert resolve_whisper_model(str(tmp_path), model_cache) == str(tmp_path)


def test_asr_fallback_transcribes_kept_clips_without_text(scenes, model_cache, tmp_path):  # noqa: F811
    segments = segments_of(scenes, [(0.0, 4.0)])
    segments = segments.set_column(segments.schema.get_field_index("text"), "text", [[None]])
    decisions = collect.filter_segments(scenes, segments, collect.CollectParams())[0]
    transcribe = Transcriber("base", model_cache, "en")
    row = collect.export_clips(scenes, decisions, tmp_path, transcribe=transcribe).to_pylist()[0]
    assert row["kept"] and len(row["text"].split()) >= 3, row["text"]
