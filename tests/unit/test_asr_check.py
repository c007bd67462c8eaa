"""merlib.asr_check: which labelled clips ASR is measured on (a stable sample), their CER
against the release text on real Mandarin sentences, and the corpus CER with its interval."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from merlib.asr_check import (
    bootstrap_interval,
    cer_summary,
    check_clips,
    check_sample,
    worst_first,
)
from merlib.schemas import ASR_CHECK, AUDIO, table_from_rows
from merlib.shards import shard_of
from merlib.transcripts import ASR, NONE, TranscriptParams
from merlib.whisper import Transcript

pytest.importorskip("opencc")

MANDARIN = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "audio" / "mandarin"
SR = 16000


def _sentences():
    """(name, text) of the real Mandarin recordings' reference transcripts (AISHELL,
    THCHS-30, ...); a few fixed ones when the shared data is not there."""
    path = MANDARIN / "transcripts.csv"
    if not path.is_file():
        return [
            ("aishell1_BAC009S0724W0121", "广州市房地产中介协会分析"),
            ("aishell3_SSB15750377", "这些游击队员威胁要杀死人质"),
            ("aishell1_BAC009S0764W0122", "一二线城市虽然也处于调整中"),
        ]
    with path.open(encoding="utf-8") as fh:
        return [(r["name"].removesuffix(".wav"), r["text"]) for r in csv.DictReader(fh)]


def _clips(n_shards=4):
    clips = [
        {"name": name, "split": "labeled", "transcription": text, "shard": shard_of(name, n_shards)}
        for name, text in _sentences()
    ]
    clips += [
        {"name": "pool_a", "split": "unlabeled", "transcription": None, "shard": "000"},
        {"name": "pool_b", "split": "unlabeled", "transcription": "有文本", "shard": "001"},
        {"name": "blank", "split": "labeled", "transcription": "  ", "shard": "002"},
        {"name": "dots", "split": "labeled", "transcription": "……", "shard": "003"},
    ]
    return clips


def test_sample_is_labelled_clips_with_text_stable_and_nested():
    clips = _clips()
    names = [c["name"] for c in check_sample(clips, 1000)]
    assert sorted(names) == sorted(n for n, _ in _sentences())  # pool, blank, "……" out
    five = [c["name"] for c in check_sample(clips, 5)]
    assert five == names[:5]  # a larger sample keeps the smaller one's clips
    assert [c["name"] for c in check_sample(list(reversed(clips)), 5)] == five
    # the shard count does not change which clips are checked
    assert [c["name"] for c in check_sample(_clips(n_shards=256), 5)] == five
    assert check_sample(clips, 0) == []
    with pytest.raises(ValueError, match=">= 0"):
        check_sample(clips, -1)


def test_sample_is_not_the_first_clips_in_name_order():
    picked = [c["name"] for c in check_sample(_clips(), 5)]
    assert len(set(picked)) == 5 and picked != sorted(n for n, _ in _sentences())[:5]


def _pcm(seconds, level=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (level * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


class ByLength:
    """An ASR that answers each clip's audio (told apart by its length) a fixed text."""

    def __init__(self, texts):
        self.texts, self.calls = texts, 0

    def __call__(self, wave):
        self.calls += 1
        return Transcript(self.texts[len(wave)], -0.3, "zh")


def test_check_clips_compares_release_and_asr_text_as_the_benchmark_does():
    sample = [
        {
            "name": "fang",
            "split": "labeled",
            "shard": "000",
            "transcription": "广州市房地产中介协会分析",
        },
        {
            "name": "trad",
            "split": "labeled",
            "shard": "000",
            "transcription": "这些游击队员威胁要杀死人质",
        },
        {"name": "quiet", "split": "labeled", "shard": "001", "transcription": "娱乐反斗星"},
        {"name": "gone", "split": "labeled", "shard": "001", "transcription": "基地里严重渗水"},
    ]
    audio = {
        "000": table_from_rows(
            [
                {"name": "fang", "sample_rate": SR, "duration": 1.0, "pcm": _pcm(1.0)},
                {"name": "trad", "sample_rate": SR, "duration": 2.0, "pcm": _pcm(2.0)},
            ],
            AUDIO,
        ),
        "001": table_from_rows(
            [{"name": "quiet", "sample_rate": SR, "duration": 1.0, "pcm": _pcm(1.0, 1e-6)}],
            AUDIO,
        ),
    }
    # Whisper-base's homophone on the AISHELL clip; the traditional-script answer with
    # punctuation is the same text once normalised
    asr = ByLength({SR: "广州市佛地产中介协会分析", 2 * SR: "這些游擊隊員，威脅要殺死人質。"})
    read = []

    def audio_of(shard, names):
        read.append((shard, sorted(names)))
        return audio[shard]

    table = check_clips(sample, audio_of, TranscriptParams(), asr)
    assert table.schema == ASR_CHECK
    assert read == [("000", ["fang", "trad"]), ("001", ["gone", "quiet"])]  # a shard once
    rows = {r["name"]: r for r in table.to_pylist()}
    assert [r["name"] for r in table.to_pylist()] == ["fang", "trad", "quiet", "gone"]
    assert (rows["fang"]["errors"], rows["fang"]["ref_chars"]) == (1, 12)
    assert rows["fang"]["cer"] == pytest.approx(1 / 12)
    assert rows["fang"]["source"] == ASR and rows["fang"]["avg_logprob"] == -0.3
    assert rows["trad"]["cer"] == 0.0 and rows["trad"]["asr"].startswith("這些")
    # ASR gives nothing: the clip stays, every reference character is an error
    assert rows["quiet"]["source"] == NONE and "silent" in rows["quiet"]["reason"]
    assert (rows["quiet"]["errors"], rows["quiet"]["cer"]) == (5, 1.0)
    assert "no audio track" in rows["gone"]["reason"] and rows["gone"]["cer"] == 1.0
    assert asr.calls == 2
    assert [r["name"] for r in worst_first(table).to_pylist()] == ["gone", "quiet", "fang", "trad"]


def _table(pairs):
    rows = []
    for i, (errors, chars) in enumerate(pairs):
        rows.append(
            {
                "name": f"c{i:03d}",
                "shard": "000",
                "reference": "参" * chars,
                "asr": "参" * (chars - errors),
                "source": ASR,
                "errors": errors,
                "ref_chars": chars,
                "cer": errors / chars,
            }
        )
    return table_from_rows(rows, ASR_CHECK)


def test_summary_is_character_weighted_with_an_interval_around_it():
    # one long clip read well, one short clip read badly: corpus CER, not the clips' mean
    summary = cer_summary(_table([(1, 40), (4, 5)]), TranscriptParams(), 200)
    assert summary["cer"] == pytest.approx(5 / 45)
    assert (summary["clips"], summary["characters"], summary["errors"]) == (2, 45, 5)
    assert summary["requested"] == 200 and summary["model"] == "base"
    assert summary["worst"][0]["name"] == "c001" and summary["worst"][0]["cer"] == 0.8
    assert summary["ci_low"] <= summary["cer"] <= summary["ci_high"]
    assert cer_summary(_table([(1, 40), (4, 5)]), TranscriptParams(), 200) == summary


def test_interval_narrows_with_more_clips_and_is_a_point_without_spread():
    rng = np.random.default_rng(1)
    pairs = [
        (int(e), int(c))
        for e, c in zip(rng.integers(0, 6, 400), rng.integers(8, 25, 400), strict=True)
    ]
    small = bootstrap_interval(*np.array(pairs[:25]).T)
    large = bootstrap_interval(*np.array(pairs).T)
    assert large[1] - large[0] < small[1] - small[0]
    e, c = np.array(pairs).T
    assert large[0] < e.sum() / c.sum() < large[1]
    assert bootstrap_interval([0, 0, 0], [10, 12, 9]) == (0.0, 0.0)
    with pytest.raises(ValueError, match="no clip"):
        bootstrap_interval([], [])


def test_no_clip_checked_gives_no_figure():
    summary = cer_summary(ASR_CHECK.empty_table(), TranscriptParams(asr_check=0), 0)
    assert summary["cer"] is None and summary["clips"] == 0


def test_negative_asr_check_is_a_config_error():
    with pytest.raises(ValueError, match="asr_check"):
        TranscriptParams(asr_check=-1)
