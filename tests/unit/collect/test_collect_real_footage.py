"""Collection on real footage: the regression set of tests/real_footage.py (real GRID faces
and real speech with its own pauses, joined by 0.2-2 s gaps and hard cuts), built from
../shared/data into a temporary folder. GRID: Cooke, Barker, Cunningham, Shao (2006),
CC BY 4.0 (attribution in ../shared/data/video/LICENSES.md)."""

from __future__ import annotations

import pytest
import real_footage

from merlib.collect.filtering import filter_segments
from merlib.collect.frames import dlib_face_embedder
from merlib.collect.params import CollectParams
from merlib.collect.turns import cut_segments, resemblyzer_embedder
from merlib.threads import limit_threads


@pytest.fixture(scope="module")
def decisions(tmp_path_factory, shared_data):
    limit_threads(1)
    folder = tmp_path_factory.mktemp("real_footage")
    truth = real_footage.build_set(folder, shared_data)
    params = CollectParams()
    embed, face_embed = resemblyzer_embedder(), dlib_face_embedder()
    rows = []
    for name in real_footage.EPISODES:
        video = folder / f"{name}.mp4"
        segments = cut_segments(video, params, None, embed, face_embed)
        rows += filter_segments(video, segments, params, face_embed)[0].to_pylist()
    return rows, [(t["video"], t["start"], t["end"]) for t in truth]


def test_kept_clips_are_the_true_turns_of_real_dialogue(decisions):
    rows, truth = decisions
    kept = [(r["video"], r["start"], r["end"]) for r in rows if r["kept"]]
    precision, recall = real_footage.score(kept, truth, min_iou=0.7)
    print(f"real footage: precision {precision:.3f}, recall {recall:.3f} ({len(kept)} kept)")
    assert precision >= 0.9 and recall >= 0.9, [r for r in rows if not r["kept"]]


def test_every_real_footage_candidate_is_kept_or_says_why(decisions):
    rows, _ = decisions
    assert rows and all((r["reason"] is None) == r["kept"] for r in rows)
    assert all(r["source"] == "vad" for r in rows)  # no subtitle file: VAD and turns
