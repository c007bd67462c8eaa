"""Collection on broadcast-like footage (issue 23): the speaker's main face among others,
turns across reaction shots, and bad video folders; the broadcast regression set of
bench/broadcast_regression_set.py (real film footage, CREMA-D, GRID and real conversation
under music and kitchen noise), built from ../shared/data into a temporary folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from merlib.collect.filtering import filter_segments, identity_agreement
from merlib.collect.frames import ShotCut, dlib_face_embedder, main_face, mark_reaction_shots
from merlib.collect.params import CollectParams
from merlib.collect.sources import NoVideoError, list_videos
from merlib.collect.turns import assemble_turns, cut_segments, resemblyzer_embedder
from merlib.faces.detection import Face
from merlib.threads import limit_threads

REPO = Path(__file__).resolve().parents[3]


def _face(x, y, w, h, score=0.9):
    return Face(score, x, y, w, h)


def test_main_face_is_the_largest_when_the_others_are_much_smaller():
    speaker, edge = _face(200, 50, 120, 150), _face(600, 200, 40, 60, 0.95)
    assert main_face([edge, speaker], 0.5) is speaker
    assert main_face([speaker], 0.5) is speaker
    assert main_face([], 0.5) is None


def test_two_faces_of_one_size_leave_no_main_face():
    assert main_face([_face(50, 50, 100, 120), _face(400, 60, 95, 118)], 0.5) is None


def test_identity_agreement_is_the_largest_group_within_the_threshold():
    a = np.zeros(4)
    same = [a, a + 0.1, a + np.array([0.2, 0, 0, 0])]
    other = a + 1.0
    assert identity_agreement(same + [other], 0.55)[0] == 3
    size, distance = identity_agreement([a, other], 0.55)
    assert size == 1 and distance == 0.0
    assert identity_agreement([a], 0.55) == (1, 0.0)


def _cut(t0, before, after, embed):
    box = (0, 0, 1, 1)
    return ShotCut(
        t0,
        t0 + 0.5,
        None if before is None else (before, box),
        None if after is None else (after, box),
        embed,
        0.55,
    )


def test_a_cut_to_the_listener_and_back_is_a_reaction_shot_and_does_not_end_the_turn():
    people = {"S": np.zeros(3), "L": np.ones(3), "L2": np.ones(3) * 1.2, "X": -np.ones(3)}

    def embed(crop, box):
        return people[crop]

    # speaker -> listener (moving: two cuts inside the reaction shot) -> speaker
    cuts = [_cut(3.0, "S", "L", embed), _cut(3.5, "L", "L2", embed), _cut(4.0, "L2", "S", embed)]
    # later a real change of speaker: speaker -> another person who stays
    cuts += [_cut(9.0, "S", "X", embed), _cut(20.0, "X", None, embed)]
    mark_reaction_shots(cuts, 2.0)
    assert [c.reaction for c in cuts] == [True, True, True, False, False]
    assert [c.ends_turn() for c in cuts] == [False, False, False, True, False]


def test_a_voice_judged_on_too_little_speech_leaves_the_decision_to_the_picture():
    # a 0.4 s first piece: its voice embedding is not trusted, the next piece joins unless
    # the picture cuts to another person
    pieces = [(0.0, 0.4), (0.5, 2.5)]
    pcm = np.zeros(16000 * 3, np.int16)
    calls = []

    def embed(wav):
        calls.append(len(wav))
        return np.random.default_rng(len(calls)).normal(size=8)  # unrelated voices

    assert assemble_turns(pieces, pcm, 16000, embed, 1.0, 0.9, 1.0, other_face=lambda i: False) == [
        (0.0, 2.5)
    ]
    assert assemble_turns(pieces, pcm, 16000, embed, 1.0, 0.9, 1.0, other_face=lambda i: True) == [
        (0.0, 0.4),
        (0.5, 2.5),
    ]
    assert calls == []  # neither side was embedded


def test_videos_in_sub_folders_are_found_with_the_folder_in_their_id(tmp_path):
    for rel in ("top.mp4", "season1/ep01.mkv", "season2/ep01.mkv", ".cache/x.mp4", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert list_videos(tmp_path) == {
        "season1_ep01": "season1/ep01.mkv",
        "season2_ep01": "season2/ep01.mkv",
        "top": "top.mp4",
    }


@pytest.mark.parametrize("content", [[], ["notes.txt", "sub/cover.jpg"]])
def test_a_videos_dir_without_any_video_is_an_error_naming_it(tmp_path, content):
    for rel in content:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    with pytest.raises(NoVideoError, match=f"{tmp_path}.*holds no video file"):
        list_videos(tmp_path)


@pytest.fixture(scope="module")
def broadcast(tmp_path_factory, shared_data):
    sys.path.insert(0, str(REPO / "bench"))
    import broadcast_regression_set as bset

    limit_threads(1)
    folder = tmp_path_factory.mktemp("broadcast")
    truth = bset.build_set(folder, shared_data)
    params = CollectParams()
    embed, face_embed = resemblyzer_embedder(), dlib_face_embedder()
    rows = []
    for video in sorted(folder.glob("*.mp4")):
        segments = cut_segments(video, params, None, embed, face_embed)
        rows += filter_segments(video, segments, params, face_embed)[0].to_pylist()
    return bset, rows, truth


def test_kept_clips_are_the_true_turns_of_broadcast_like_footage(broadcast):
    bset, rows, truth = broadcast
    kept = [(r["video"], r["start"], r["end"]) for r in rows if r["kept"]]
    spans = [(t["video"], t["start"], t["end"]) for t in truth]
    precision, recall = bset.real_footage.score(kept, spans, min_iou=0.7)
    print(f"broadcast set: precision {precision:.3f}, recall {recall:.3f} ({len(kept)} kept)")
    assert precision >= 0.9 and recall >= 0.9, [r for r in rows if not r["kept"]]


def test_broadcast_candidates_report_the_face_counts_behind_their_decision(broadcast):
    _, rows, _ = broadcast
    looked = [r for r in rows if r["frames"]]
    assert looked and all((r["reason"] is None) == r["kept"] for r in rows)
    assert all(0 <= r["main_face_frames"] <= r["frames"] for r in looked)
    # the edge-face shots: frames with two detections still have one main face
    assert any(r["kept"] and r["multi_face_frames"] > 0 for r in rows)
    kept = [r for r in rows if r["kept"]]
    assert all(2 * r["identity_agreeing"] > r["identity_faces"] for r in kept)


@pytest.fixture(scope="module")
def edge_face_clip(tmp_path_factory, shared_data) -> Path:
    """4 s of obama speaking, biden smaller and partly cut off by the right edge of the frame."""
    from merlib.av.ffmpeg import ffmpeg_exe

    images = shared_data / "images"
    out = tmp_path_factory.mktemp("edge") / "edge.mp4"
    graph = (
        "[0:v]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:0[a];"
        "[1:v]scale=-2:240[b];[a][b]overlay=x=W-w*0.6:y=H-h,fps=10[v]"
    )
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-loop", "1", "-i"]
    cmd += [str(images / "obama.jpg"), "-loop", "1", "-i", str(images / "biden.jpg")]
    cmd += ["-i", str(shared_data / "audio" / "speech_60s_silero_test.wav")]
    cmd += ["-filter_complex", graph, "-map", "[v]", "-map", "2:a", "-t", "4"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)]
    subprocess.run(cmd, check=True)
    return out


def _segment(video: Path, start: float, end: float):
    from merlib.schemas import COLLECT_SEGMENTS, table_from_rows

    row = {"name": f"{video.stem}_{start}", "video": video.name, "source": "subtitle"}
    row.update({"start": start, "end": end, "text": "x", "reason": None})
    return table_from_rows([row], COLLECT_SEGMENTS)


@pytest.mark.parametrize("rule, kept", [("main", True), ("one", False)])
def test_a_second_face_at_the_frame_edge_fails_only_the_face_count_rule(edge_face_clip, rule, kept):
    params = CollectParams(face_rule=rule)
    row = filter_segments(edge_face_clip, _segment(edge_face_clip, 0.0, 4.0), params)[0]
    row = row.to_pylist()[0]
    assert row["kept"] is kept, row
    assert row["multi_face_frames"] == row["frames"] == 8  # both faces found in every frame
    assert row["main_face_frames"] == 8
    if not kept:
        assert "exactly one face in 0 of 8" in row["reason"]
