"""Subtitle files: encodings, styling, order and overlaps, garbage."""

from __future__ import annotations

import pytest

from merlib.subtitles import Cue, SubtitleError, read_subtitles

SRT = """1
00:00:01,000 --> 00:00:03,500
<i>你好</i>，<font color="#ff0000">世界</font>

3
00:00:10,000 --> 00:00:12,000
第三句

2
00:00:04,000 --> 00:00:06,000
{\\an8}第二句

4
00:00:11,000 --> 00:00:13,250
Third line
"""

EXPECTED = [
    Cue(1.0, 3.5, "你好，世界"),
    Cue(4.0, 6.0, "第二句"),
    Cue(10.0, 13.25, "第三句 Third line"),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"], ids=lambda e: e)
def test_srt_reads_in_every_encoding_sorted_with_tags_stripped_and_overlaps_merged(
    tmp_path, encoding
):
    path = tmp_path / "a.srt"
    path.write_bytes(SRT.replace("\n", "\r\n").encode(encoding))
    assert read_subtitles(path) == EXPECTED


def test_ass_dialogue_uses_the_format_line_and_strips_override_tags(tmp_path):
    path = tmp_path / "a.ass"
    path.write_text(
        "[Script Info]\nTitle: x\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:05.00,0:00:07.50,Default,,0,0,0,,{\\b1}第二句{\\b0}\\N，好\n"
        "Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,not a cue\n"
        "Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,第一句, 有逗号\n",
        encoding="utf-8-sig",
    )
    assert read_subtitles(path) == [Cue(1.0, 3.0, "第一句, 有逗号"), Cue(5.0, 7.5, "第二句 ，好")]


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\x03garbage\xff\xfe" * 20, b"just some words\nno times\n"],
    ids=["empty", "binary", "no-cues"],
)
def test_garbage_subtitle_raises_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.srt"
    path.write_bytes(content)
    with pytest.raises(SubtitleError, match="bad.srt"):
        read_subtitles(path)


def test_cue_ending_before_it_starts_is_kept_apart_for_a_reason(tmp_path):
    path = tmp_path / "a.srt"
    path.write_text(
        "1\n00:00:05,000 --> 00:00:04,000\nbackwards\n\n2\n00:00:04,500 --> 00:00:06,000\nok\n",
        encoding="utf-8",
    )
    assert read_subtitles(path) == [Cue(4.5, 6.0, "ok"), Cue(5.0, 4.0, "backwards")]
