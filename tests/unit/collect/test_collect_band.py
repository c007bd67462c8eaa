"""Burned-in subtitle bands (merlib.collect.band) on real footage: the Tears of Steel
excerpt (shot cuts, a moving camera, glare) with subtitles drawn by ffmpeg at known times,
and the same footage and a GRID clip without text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from merlib.av.ffmpeg import ffmpeg_exe
from merlib.collect.band import band_changes
from merlib.collect.params import CollectParams
from merlib.collect.turns import band_split, snap_edges

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FPS = 5.0
# cues (start, end, text): a change from one line straight to another at 3.1 s, a gap
# 5.6-6.4 s; the excerpt's own shot cuts are at 1.0, 2.75, 7.75 and 9.0 s
CUES = [
    (1.3, 3.1, "I never wanted to leave"),
    (3.1, 5.6, "but the robots came anyway"),
    (6.4, 8.9, "We hold the line here"),
]
CHANGES = [1.3, 3.1, 5.6, 6.4, 8.9]


def _drawtext(cues: list[tuple]) -> str:
    font = f"fontfile={FONT}:" if FONT.is_file() else ""
    return ",".join(
        f"drawtext={font}text='{text}':enable='between(t\\,{a}\\,{b})'"
        ":x=(w-text_w)/2:y=h-40:fontsize=22:fontcolor=white:box=1:boxcolor=black@0.6"
        for a, b, text in cues
    )


@pytest.fixture(scope="module")
def film(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """(subtitled, plain): the 10 s Tears of Steel excerpt with and without the cues."""
    source = shared_data / "video" / "broadcast" / "tears_of_steel_10s.mp4"
    out = tmp_path_factory.mktemp("band") / "film_subtitled.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(source)]
    cmd += ["-vf", _drawtext(CUES), "-c:v", "libx264", "-preset", "veryfast", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out, source


def test_changes_of_burned_subtitles_found_within_one_sample(film):
    subtitled, _ = film
    found = band_changes(subtitled, FPS, 0.2)
    assert len(found) == len(CHANGES), found  # the film's shot cuts add none
    assert np.abs(np.array(found) - np.array(CHANGES)).max() <= 1 / FPS, found


def test_footage_without_text_gives_no_changes(film, shared_data):
    _, plain = film
    assert band_changes(plain, FPS, 0.2) == []  # cuts, camera moves, glare
    grid = shared_data / "video" / "grid" / "lbax4n.mpg"  # a bright collar at the bottom
    assert band_changes(grid, FPS, 0.2) == []


def test_band_split_cuts_speech_at_a_change_and_ends_turns_in_changed_pauses(film):
    subtitled, _ = film
    params = CollectParams(subtitle_band=True, subtitle_band_fps=FPS)
    pcm = np.zeros(10 * params.sample_rate, np.int16)
    speech = [(1.4, 5.5), (6.5, 8.8), (9.3, 9.9)]
    faces = {1: False, 2: True}  # a cut to another face before the third segment only
    changes = band_changes(subtitled, FPS, 0.2)
    pieces, ends_turn = band_split(speech, changes, pcm, params, faces.__getitem__)
    # 1.3, 5.6, 6.4 and 8.9 lie at segment ends (within the VAD pad and half a step)
    assert len(pieces) == 4, pieces
    assert abs(pieces[0][1] - 3.1) <= 0.25 + 0.5 / FPS and pieces[0][1] == pieces[1][0]
    assert pieces[2] == (6.5, 8.8) and pieces[3] == (9.3, 9.9)
    assert ends_turn(1)  # the line changed inside the speech
    assert ends_turn(2)  # the line went and another came in the pause
    assert ends_turn(3)  # 8.9 in the pause, and the cut to another face
    # without a change in a pause, the pause keeps the evidence it had (the faces)
    within_cue = [(3.3, 4.0), (4.4, 5.2)]  # one line on screen 3.1-5.6 s
    pieces, ends_turn = band_split(within_cue, changes, pcm, params, None)
    assert pieces == within_cue and not ends_turn(1)
    pieces, ends_turn = band_split(within_cue, changes, pcm, params, lambda i: True)
    assert ends_turn(1)


def test_band_split_leaves_videos_without_subtitles_as_they_were(film):
    _, plain = film
    params = CollectParams(subtitle_band=True, subtitle_band_fps=FPS)
    speech = [(1.0, 4.0), (4.5, 9.0)]

    def other_face(i: int) -> bool:
        return False

    pcm = np.zeros(10 * params.sample_rate, np.int16)
    changes = band_changes(plain, FPS, 0.2)
    assert band_split(speech, changes, pcm, params, other_face) == (speech, other_face)
    assert band_split(speech, changes, pcm, params, None) == (speech, None)


def test_turn_edges_snap_to_nearby_changes_but_not_past_their_neighbours():
    changes = [0.5, 2.3, 2.7, 6.0]
    turns = [(0.87, 2.55), (2.6, 4.0), (5.0, 5.4)]
    # 0.87 -> 0.5; 2.55 -> 2.7 would pass the next start (2.6): 2.6; 2.6 -> 2.7 and
    # 4.0 has no change within 0.45 s; 6.0 is 0.6 s from 5.4
    assert snap_edges(turns, changes, 0.45) == [(0.5, 2.6), (2.7, 4.0), (5.0, 5.4)]
    assert snap_edges(turns, [], 0.45) == turns
