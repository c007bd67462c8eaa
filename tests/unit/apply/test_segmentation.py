"""Speaker turns of whole real videos with no dataset filter: every speech turn kept,
faces and people marked, speakers clustered, bad videos one row with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apply_footage import (
    SPEECH,
    coverage,
    cremad_joined,
    cremad_over_another_face,
    grey_with,
    speech_spans,
    tears_with_speech,
)
from collect_scenes import segments_of
from conftest import YUNET_ONNX

from merlib.apply.segmentation import (
    cluster_faces,
    cluster_speakers,
    face_voice_notes,
    segment_video,
)
from merlib.collect.filtering import filter_segments
from merlib.collect.params import CollectParams

PARAMS = CollectParams(detector="opencv", detector_model=str(YUNET_ONNX))
FACE_DISTANCE = 0.5  # config.yaml's apply.face_distance


@pytest.fixture(scope="module")
def embedders():
    from merlib.collect.frames import dlib_face_embedder
    from merlib.collect.turns import resemblyzer_embedder

    return {"embed": resemblyzer_embedder(), "face_embed": dlib_face_embedder()}


def _segment(path, embedders, similarity=0.75):
    return segment_video(
        path, PARAMS, similarity, **embedders, face_distance=FACE_DISTANCE
    ).to_pylist()


def test_cluster_speakers_numbers_by_first_appearance():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    assert cluster_speakers(np.stack([b, a, b + 0.01, a]), 0.75) == ["S1", "S2", "S1", "S2"]
    assert cluster_speakers(np.stack([a]), 0.75) == ["S1"]
    assert cluster_speakers(np.zeros((0, 3)), 0.75) == []


def test_cluster_faces_edge_cases():
    a, b = np.zeros(128), np.full(128, 0.1)  # 1.13 apart
    assert cluster_faces([], 0.5) == []
    assert cluster_faces([None, None], 0.5) == [None, None]  # no face in the video
    assert cluster_faces([None, a, None], 0.5) == [None, "F1", None]  # one turn
    faces = [None, b, a, b + 0.01, None, a]
    assert cluster_faces(faces, 0.5) == [None, "F1", "F2", "F1", None, "F2"]
    assert cluster_faces(faces, 2.0) == [None, "F1", "F1", "F1", None, "F1"]


def test_face_voice_notes_mark_a_face_that_is_not_the_voices_usual_one():
    speakers = ["S1", "S1", "S1", "S2", "S2", "S3", "S3", None]
    tracks = ["F1", "F2", "F1", "F3", None, "F1", "F2", "F2"]
    notes = face_voice_notes(speakers, tracks)
    assert notes[1] == "face F2 is not voice S1's usual face F1"
    # S2 has one face; S3 shows two faces once each (no usual face); no voice, no note
    assert notes[:1] + notes[2:] == [None] * 7


def test_grid_faces_of_one_man_in_two_clips_are_one_track(shared_data, embedders):
    # two turns per clip; pwij3p and id2_vcd_swwp2s are one man (GRID talker s2), and
    # brbk7n and lrwp9a are the two closest different people (turn means 0.58 apart)
    clips = ["pwij3p", "bbaf2n", "id2_vcd_swwp2s", "brbk7n", "lrwp9a"]
    faces = []
    for clip in clips:
        video = shared_data / "video" / "grid" / f"{clip}.mpg"
        segments = segments_of(video, [(0.0, 1.4), (1.5, 2.9)])
        identities = {}
        args = (video, segments, PARAMS, embedders["face_embed"])
        decisions = filter_segments(*args, identities=identities)[0]
        assert decisions.equals(filter_segments(*args)[0])  # the collection's own decisions
        assert all(decisions.column("kept").to_pylist()) and len(identities) == 2
        faces += [identities[name] for name in decisions.column("name").to_pylist()]
    assert all(f.shape == (128,) for f in faces)
    tracks = cluster_faces(faces, FACE_DISTANCE)
    assert tracks == ["F1", "F1", "F2", "F2", "F1", "F1", "F3", "F3", "F4", "F4"]
    # dlib's usual 0.6 would take brbk7n and lrwp9a for one person
    assert cluster_faces(faces, 0.6)[6:] == ["F3"] * 4


def test_grid_cuts_four_speakers_cover_the_speech(shared_data, embedders):
    folder = shared_data / "video" / "grid-cuts"
    truth = json.loads((folder / "grid_4speakers_cuts.json").read_text())
    rows = _segment(folder / "grid_4speakers_cuts.mp4", embedders)
    turns = [(r["start"], r["end"]) for r in rows]
    spoken = [tuple(t["speech"]) for t in truth["turns"] if t["speech"]]
    assert coverage(spoken, turns) >= 0.9
    # every annotated segment holds a turn, and each person is a speaker of their own
    for t in truth["turns"]:
        a, b = t["segment"]
        assert any(s < b and e > a for s, e in turns), t
    assert len({r["speaker"] for r in rows}) == 4
    assert all(r["usable"] and r["face_track"] for r in rows)
    # four people, four face tracks, each one voice's: no turn notes a disagreement
    assert len({r["face_track"] for r in rows}) == 4
    assert len({(r["speaker"], r["face_track"]) for r in rows}) == 4
    assert all(r["note"] is None for r in rows)


def test_cremad_six_emotions_joined_every_sentence_in_a_turn(shared_data, embedders, tmp_path):
    video, spans = cremad_joined(shared_data, tmp_path / "cremad.mp4")
    rows = _segment(video, embedders)
    turns = [(r["start"], r["end"]) for r in rows]
    # the speech of each sentence, found in its own clip, placed where it is in the video
    truth = [
        (a + s, a + e)
        for i, (_, a, _end) in enumerate(spans)
        for s, e in speech_spans(tmp_path / f"part{i}.mp4")
    ]
    assert coverage(truth, turns) >= 0.9
    assert all(r["usable"] for r in rows)
    assert len({r["speaker"] for r in rows}) <= 2  # one actor
    assert [r["face_track"] for r in rows] == ["F1"] * len(rows)
    # the actor's face in each of the six clips, as six turns: one track
    segments = segments_of(video, [(a + 0.2, b - 0.2) for _, a, b in spans])
    identities = {}
    args = (video, segments, PARAMS, embedders["face_embed"])
    decisions = filter_segments(*args, identities=identities)[0]
    faces = [identities.get(name) for name in decisions.column("name").to_pylist()]
    assert cluster_faces(faces, FACE_DISTANCE) == ["F1"] * 6


def test_a_voice_heard_over_another_persons_face_is_noted(shared_data, embedders, tmp_path):
    # CREMA-D's actor speaks throughout; for two sentences (4.2 s) the picture shows a GRID
    # talker instead: a cut to another person ends the turn, and that turn's face is not
    # the voice's usual one
    video, (a, b) = cremad_over_another_face(shared_data, tmp_path / "voice_over.mp4")
    rows = _segment(video, embedders)
    over = [r for r in rows if r["start"] < b - 0.5 and r["end"] > a + 0.5]
    rest = [r for r in rows if r not in over]
    assert len(over) == 1 and len(rest) >= 2, rows
    assert all(r["usable"] and r["face_track"] for r in rows)
    assert {r["face_track"] for r in rest} == {"F1"} and over[0]["face_track"] == "F2"
    assert a - 0.5 < over[0]["start"] and over[0]["end"] < b + 0.5  # the cuts end the turns
    assert len({r["speaker"] for r in rows}) == 1  # one actor's voice
    assert over[0]["note"] == f"face F2 is not voice {over[0]['speaker']}'s usual face F1"
    assert all(r["note"] is None for r in rest)


def test_tears_of_steel_with_speech_every_turn_kept(shared_data, embedders, tmp_path):
    video = tears_with_speech(shared_data, tmp_path / "tos.mp4", offset=1.0)
    rows = _segment(video, embedders)
    truth = speech_spans(shared_data / SPEECH, offset=1.0)
    truth = [(s, min(e, 10.0)) for s, e in truth if s < 10.0]
    assert coverage(truth, [(r["start"], r["end"]) for r in rows]) >= 0.9
    assert all(r["usable"] for r in rows)
    # a turn over shots without one face of one person is marked, not dropped; a turn
    # with a face may note that the face is not its voice's usual one (a voice-over here)
    for r in rows:
        assert r["face_track"] is not None or r["note"] is not None
        if r["face_track"] is not None and r["note"] is not None:
            assert r["note"].startswith(f"face {r['face_track']} is not voice")


def test_video_without_faces_keeps_its_turns_with_a_note(shared_data, embedders, tmp_path):
    video = grey_with(tmp_path / "grey.mp4", shared_data / SPEECH)
    rows = _segment(video, embedders)
    assert rows and all(r["usable"] for r in rows)
    assert all(r["face_track"] is None and "face" in r["note"] for r in rows)


@pytest.mark.parametrize("kind", ["silence", "no audio", "not a video", "empty"])
def test_unusable_video_is_one_row_with_the_reason(shared_data, embedders, tmp_path, kind):
    if kind == "silence":
        video, reason = grey_with(tmp_path / "silence.mp4", None), "no speech"
    elif kind == "no audio":
        video = shared_data / "video" / "broadcast" / "tears_of_steel_10s.mp4"
        reason = "no audio track"
    elif kind == "not a video":
        video, reason = tmp_path / "text.mp4", "not a readable video"
        video.write_text("this is not a video\n")
    else:
        video, reason = tmp_path / "empty.mp4", "empty"
        video.write_bytes(b"")
    rows = _segment(video, embedders)
    assert len(rows) == 1
    assert not rows[0]["usable"] and reason in rows[0]["note"] and str(video) in rows[0]["note"]
    assert rows[0]["speaker"] is None
