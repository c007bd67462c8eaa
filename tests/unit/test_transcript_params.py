"""The new transcripts settings: backend, decoding options, the auto prompt."""

from __future__ import annotations

import pytest

from merlib.transcripts import ZH_PROMPT, TranscriptParams


def test_defaults_are_the_measured_choice_greedy_vad_no_prompt_no_fallback_simplified():
    opts = TranscriptParams().decode_options()
    assert (opts.beam_size, opts.vad, opts.initial_prompt) == (1, True, None)
    assert (opts.temperature_fallback, opts.simplified, opts.cut_repetitions) == (
        "none",
        True,
        True,
    )


@pytest.mark.parametrize(("language", "prompt"), [("zh", ZH_PROMPT), ("en", None), (None, None)])
def test_auto_prompt_is_the_simplified_chinese_sentence_for_mandarin_only(language, prompt):
    params = TranscriptParams(language=language, initial_prompt="auto")
    assert params.decode_options().initial_prompt == prompt


def test_a_prompt_of_ones_own_is_passed_as_is():
    assert TranscriptParams(initial_prompt="你好。").decode_options().initial_prompt == "你好。"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"backend": "whisper.cpp"}, "transcripts.backend must be one of"),
        ({"temperature_fallback": "random"}, "temperature_fallback must be one of"),
        ({"beam_size": 0}, "beam_size must be >= 1"),
    ],
)
def test_bad_settings_are_clear_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        TranscriptParams(**settings)
