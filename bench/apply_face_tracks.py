"""Face tracks of the apply timeline (issue 25) on real footage: how many face tracks,
speakers (voice clusters) and true people each video gives, how pure the tracks are, and
the CPU the tracks add to ``segment_video``.

    .venv/bin/python bench/apply_face_tracks.py OUT_DIR [--face-distance 0.5]

Videos, built into OUT_DIR from ../shared/data only: GRID's four-speaker cuts; CREMA-D's
actor in six emotions joined (tests/apply_footage.py); ``long_grid_cremad`` (the GRID cuts
five times, then the CREMA-D join twice: bench/apply_timeline.py's video); the
collection's two real-footage episodes (tests/real_footage.py: eight people each, the
LibriSpeech voices over GRID faces that do not speak); Tears of Steel with a LibriSpeech
sentence laid over it (a voice-over: no truth for its faces). Each turn's true person is
the one the construction puts on screen over most of the turn. Purity: the share of turns
with a face track whose track's most frequent true person is theirs; split: true people
given more than one track. Added CPU: ``turn_identity`` (inside ``filter_segments``),
``cluster_faces`` and ``face_voice_notes``, timed in this process (one worker).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from apply_footage import cremad_joined, tears_with_speech
from apply_timeline import build_video
from real_footage import EPISODES, LIBRI_FACE, build_episode

import merlib.apply.segmentation as segmentation
import merlib.collect.filtering as filtering
from merlib.collect.params import CollectParams

SHARED = REPO.parent / "shared" / "data"
GRID_CUTS = SHARED / "video" / "grid-cuts" / "grid_4speakers_cuts"
SAME_MAN = {"id2_vcd_swwp2s": "grid_s2", "pwij3p": "grid_s2"}  # GRID talker s2's two clips


def _grid_truth(offset: float = 0.0) -> list[tuple]:
    truth = json.loads(GRID_CUTS.with_suffix(".json").read_text())
    return [
        (offset + a, offset + b, t["source"]) for t in truth["turns"] for a, b in [t["segment"]]
    ]


def videos(out: Path) -> dict[str, tuple[Path, list[tuple] | None]]:
    """name -> (video, truth: (start, end, person) spans or None)."""
    out.mkdir(parents=True, exist_ok=True)
    found = {"grid_4speakers_cuts": (GRID_CUTS.with_suffix(".mp4"), _grid_truth())}
    (out / "cremad").mkdir(exist_ok=True)
    cremad, spans = cremad_joined(SHARED, out / "cremad" / "cremad.mp4")
    found["cremad_joined"] = (cremad, [(a, b, "cremad_1001") for _, a, b in spans])
    long_video, _ = build_video(out / "long")
    truth, t = [], 0.0
    grid_len = json.loads(GRID_CUTS.with_suffix(".json").read_text())["duration_s"]
    cremad_len = spans[-1][2]  # the same join as cremad_joined's
    for _ in range(5):
        truth += _grid_truth(t)
        t += grid_len
    truth += [(t, t + 2 * cremad_len, "cremad_1001")]
    found["long_grid_cremad"] = (long_video, truth)
    for name, (turns, _) in EPISODES.items():
        rows = build_episode(name, out / "episodes")
        faces = {
            turn.speaker: LIBRI_FACE.get(turn.speaker.removeprefix("libri"), turn.faces[0])
            for turn in turns
        }
        truth = [
            (r["start"], r["end"], SAME_MAN.get(faces[r["speaker"]], faces[r["speaker"]]))
            for r in rows
        ]
        found[name] = (out / "episodes" / f"{name}.mp4", truth)
    found["tears_of_steel_voiceover"] = (tears_with_speech(SHARED, out / "tos.mp4"), None)
    return found


def _person(turn: dict, truth: list[tuple]) -> str:
    return max(truth, key=lambda s: min(s[1], turn["end"]) - max(s[0], turn["start"]))[2]


def _timed(module, name: str, spent: dict):
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        tick = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - tick

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--face-distance", type=float, default=0.5)
    args = parser.parse_args()
    from conftest import YUNET_ONNX

    from merlib.collect.frames import dlib_face_embedder
    from merlib.collect.turns import resemblyzer_embedder

    params = CollectParams(detector="opencv", detector_model=str(YUNET_ONNX))
    embedders = {"embed": resemblyzer_embedder(), "face_embed": dlib_face_embedder()}
    spent: dict[str, float] = {}
    _timed(filtering, "turn_identity", spent)
    _timed(segmentation, "cluster_faces", spent)
    _timed(segmentation, "face_voice_notes", spent)
    head = "video | s | turns | with face | speakers | face tracks | true people (faces)"
    print(head + " | purity | split | voice/face notes | segment CPU s | added CPU ms")
    for name, (video, truth) in videos(args.out).items():
        spent.clear()
        tick = time.process_time()
        rows = segmentation.segment_video(
            video, params, 0.75, **embedders, face_distance=args.face_distance
        ).to_pylist()
        cpu = time.process_time() - tick
        faced = [r for r in rows if r["face_track"]]
        tracks = {r["face_track"] for r in faced}
        people = purity = split = "-"
        if truth is not None:
            person = {r["name"]: _person(r, truth) for r in faced}
            people = len(set(person.values()))
            by_track = Counter((r["face_track"], person[r["name"]]) for r in faced)
            top = {t: max(n for (tt, _), n in by_track.items() if tt == t) for t in tracks}
            purity = f"{sum(top.values()) / max(1, len(faced)):.2f}"
            split = sum(1 for p in set(person.values()) if sum(pp == p for _, pp in by_track) > 1)
        notes = sum(1 for r in faced if r["note"] and r["note"].startswith("face F"))
        added = 1000 * sum(spent.values())
        print(
            f"{name} | {rows[-1]['end']:.0f} | {len(rows)} | {len(faced)} | "
            f"{len({r['speaker'] for r in rows})} | {len(tracks)} | {people} | {purity} | "
            f"{split} | {notes} | {cpu:.1f} | {added:.1f}"
        )


if __name__ == "__main__":
    main()
