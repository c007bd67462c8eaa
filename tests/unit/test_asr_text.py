"""merlib.asr_text on crafted strings: simplified script, repeated-phrase loops cut,
silence hallucinations recognised, CER normalised as the Mandarin benchmark counts it."""

from __future__ import annotations

import pytest

from merlib.asr_text import (
    cer_column,
    character_error_rate,
    cut_repetitions,
    is_hallucination,
    normalise_for_cer,
    to_simplified,
)
from merlib.whisper import DecodeOptions, finish_text

pytest.importorskip("opencc")


def test_traditional_characters_become_simplified_and_punctuation_stays():
    assert to_simplified("這個國家們說話，發現頭髮！") == "这个国家们说话，发现头发！"
    assert to_simplified("Hello, 世界 123") == "Hello, 世界 123"


@pytest.mark.parametrize(
    ("text", "kept", "cut"),
    [
        ("能,能,能,能,能,能,你好", "能,你好", 10),
        ("我不知道我不知道我不知道他去哪了", "我不知道他去哪了", 8),
        ("你好。你好。你好。你好。", "你好。", 9),
        ("哈哈哈，对对对，谢谢谢谢", "哈哈哈，对对对，谢谢谢谢", 0),  # short reduplication
        ("他说了好几遍，好几遍。", "他说了好几遍，好几遍。", 0),  # said twice is speech
    ],
)
def test_a_phrase_looping_three_times_or_more_is_cut_to_one(text, kept, cut):
    assert cut_repetitions(text) == (kept, cut)


def test_cut_repetitions_rejects_a_repeat_count_below_two():
    with pytest.raises(ValueError, match="min_repeats"):
        cut_repetitions("啊啊", min_repeats=1)


def test_known_silence_hallucinations_are_recognised_in_either_script():
    assert is_hallucination("字幕由Amara.org社區提供")
    assert is_hallucination("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目")
    assert not is_hallucination("谢谢你来看我")
    assert not is_hallucination("")


def test_finish_text_simplifies_cuts_and_gives_a_reason_for_empty_text():
    opts = DecodeOptions()
    assert finish_text(" 說話，說話，說話，說話，好嗎？", "zh", opts) == ("说话，好吗？", None)
    assert finish_text("說話", "en", opts) == ("說話", None)  # only Chinese is converted
    assert finish_text("說話", "zh", DecodeOptions(simplified=False)) == ("說話", None)
    text, reason = finish_text("字幕由Amara.org社区提供", "zh", opts)
    assert text == "" and "music or silence" in reason
    assert finish_text("  ", "zh", opts) == ("", "no speech recognised")


def test_cer_ignores_punctuation_spaces_width_and_script():
    assert normalise_for_cer("說話， Ｈｅｌｌｏ！ 15 米") == "说话hello15米"
    assert character_error_rate("说话很好", "說話，很好！") == 0.0
    assert character_error_rate("你好吗", "你好") == pytest.approx(1 / 3)
    assert character_error_rate("", "") == 0.0 and character_error_rate("", "啊") == 1.0


def test_cer_column_is_corpus_cer_over_pairs_with_a_reference():
    refs = ["你好", "世界和平", None, ""]
    hyps = ["你好", "世界", "多余", "多余"]
    assert cer_column(refs, hyps) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="2 references but 1"):
        cer_column(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no pair"):
        cer_column([None], ["x"])
