"""The timeline's subtitles, per-speaker summary, picture and CSV, and the video list."""

from __future__ import annotations

import pytest
from apply_rows import timeline_row as _row

from merlib.apply.plot import plot_timeline
from merlib.apply.srt import srt_time, timeline_srt
from merlib.apply.timeline import summarise, write_csv
from merlib.collect.sources import NoVideoError, list_videos
from merlib.labels import LABELS
from merlib.schemas import APPLY_TIMELINE, table_from_rows
from merlib.subtitles import read_subtitles

TIMELINE = table_from_rows(
    [
        _row(0.5, 2.0, "S1", "happy", "bonjour, le monde"),
        _row(2.5, 6.5, "S2", "angry"),
        _row(7.0, 8.0, "S1", None, "", "not predicted: no usable feature"),
        _row(3661.25, 3662.0, "S1", "happy"),
    ],
    APPLY_TIMELINE,
)


def test_srt_time_formats_hours_minutes_seconds_milliseconds():
    assert srt_time(3661.2504) == "01:01:01,250"
    assert srt_time(0) == "00:00:00,000"


def test_srt_parses_back_to_one_cue_per_turn_with_speaker_label_and_text(tmp_path):
    path = tmp_path / "v.emotions.srt"
    path.write_text(timeline_srt(TIMELINE), encoding="utf-8")
    cues = read_subtitles(path)
    assert [round(c.start, 3) for c in cues] == [0.5, 2.5, 7.0, 3661.25]
    assert cues[0].text == "[S1] happy (0.90) - bonjour, le monde"
    assert cues[2].text.startswith("[S1] no emotion (not predicted")


def test_summary_shares_speaking_time_per_emotion_per_speaker():
    rows = {r["speaker"]: r for r in summarise(TIMELINE).to_pylist()}
    assert rows["S1"]["turns"] == 3 and rows["S1"]["unpredicted_turns"] == 1
    assert rows["S1"]["seconds"] == pytest.approx(1.5 + 0.75)
    assert rows["S1"]["share_happy"] == pytest.approx(1.0)
    assert rows["S2"]["share_angry"] == pytest.approx(1.0)
    for r in rows.values():
        assert sum(r[f"share_{lab}"] for lab in LABELS) == pytest.approx(1.0)


def test_plot_and_csv_are_written(tmp_path):
    plot_timeline(TIMELINE, tmp_path / "timeline.png", title="v")
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    write_csv(TIMELINE, tmp_path / "timeline.csv")
    lines = (tmp_path / "timeline.csv").read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith('"video","name","start","end","speaker"')


def test_videos_are_listed_with_sub_folders_and_ids_from_their_paths(tmp_path):
    (tmp_path / "films" / "season 1").mkdir(parents=True)
    (tmp_path / "films" / "a.mp4").write_bytes(b"x")
    (tmp_path / "films" / "season 1" / "ep 1.MKV").write_bytes(b"x")
    (tmp_path / "films" / "notes.txt").write_text("x")
    assert list_videos(tmp_path / "films", "apply.videos_dir") == {
        "a": "a.mp4",
        "season_1_ep_1": "season 1/ep 1.MKV",
    }


def test_folder_without_video_is_an_error_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(NoVideoError, match=rf"apply.videos_dir '{tmp_path}' holds no video"):
        list_videos(tmp_path, "apply.videos_dir")
    with pytest.raises(NoVideoError, match="is not a folder"):
        list_videos(tmp_path / "missing")


def test_two_files_of_one_id_is_an_error_naming_both(tmp_path):
    (tmp_path / "a b.mp4").write_bytes(b"x")
    (tmp_path / "a_b.mkv").write_bytes(b"x")
    with pytest.raises(NoVideoError, match=r"'a b.mp4' and 'a_b.mkv'"):
        list_videos(tmp_path)
