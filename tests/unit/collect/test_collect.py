"""Collection on real media: cutting, merging, face filters, export, bad input, long input."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
import torch
from collect_scenes import ffmpeg, segments_of
from conftest import YUNET_ONNX

from merlib.av.decode import decode_audio
from merlib.av.ffmpeg import ffmpeg_exe
from merlib.av.probe import probe_video
from merlib.collect.export import export_clips, fetch_checked, write_release_csvs
from merlib.collect.filtering import filter_segments
from merlib.collect.frames import ShotCut, iter_frames
from merlib.collect.params import CollectParams
from merlib.collect.sources import find_subtitle, list_videos
from merlib.collect.turns import (
    assemble_turns,
    cut_segments,
    resemblyzer_embedder,
    split_long_turn,
    vad_segments,
)
from merlib.ingest import ingest_release
from merlib.schemas import COLLECT_CLIPS, table_from_rows
from merlib.threads import limit_threads


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Detections on one thread, as collect jobs run them; OMP_NUM_THREADS is restored
    afterwards so later subprocesses of the session (nproc, snakemake jobs) do not see it."""
    saved = os.environ.get("OMP_NUM_THREADS")
    cv2_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    limit_threads(1)
    yield
    if saved is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = saved
    cv2.setNumThreads(cv2_threads)
    torch.set_num_threads(torch_threads)


@pytest.mark.parametrize("detector", ["yuface", "opencv"])
def test_filter_keeps_one_person_and_says_why_others_go(scenes, detector):
    params = CollectParams(detector=detector, detector_model=str(YUNET_ONNX))
    spans = [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0), (0.5, 1.5)]
    decisions, timings = filter_segments(scenes, segments_of(scenes, spans), params)
    rows = {(r["start"], r["end"]): r for r in decisions.to_pylist()}
    assert decisions.schema.equals(COLLECT_CLIPS)
    one = rows[(0.0, 4.0)]
    assert one["kept"] and one["reason"] is None, one
    assert one["frames"] == 8 and one["one_face_fraction"] == 1.0
    assert one["face_distance"] < params.identity_threshold
    assert "one main face in" in rows[(4.0, 8.0)]["reason"]  # two faces of one size
    assert "more than one person" in rows[(8.0, 12.0)]["reason"]
    assert rows[(8.0, 12.0)]["face_distance"] > 0.6
    assert "duration 1.00 s outside [1.2, 16] s" in rows[(0.5, 1.5)]["reason"]
    assert timings["windows"] == 1 and timings["frames"] == 24  # the short span is not decoded


def test_identity_check_in_two_worker_processes_decides_as_in_one(scenes):
    spans = [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0), (0.5, 1.5), (1.0, 3.5)]
    one, t1 = filter_segments(scenes, segments_of(scenes, spans), CollectParams())
    two, t2 = filter_segments(scenes, segments_of(scenes, spans), CollectParams(), workers=2)
    assert two.equals(one), (two.to_pylist(), one.to_pylist())
    assert [r["kept"] for r in two.to_pylist()] == [True, False, False, False, True]
    # only the candidates that pass the main-face check are embedded (not 4-8 s), each face
    # once: frames 0, 2, 4, 5, 7 of 0-4 s and 2-6 of 1-3.5 s share 2, 4, 5; 5 of 8-12 s
    assert t2["identity_faces"] == t1["identity_faces"] == 12


def test_no_face_crop_outlives_its_decode_window(scenes, monkeypatch):
    """Memory does not grow with the video: a window's face crops are embedded (or, for a
    candidate failing the face check, dropped) when the window is decoded, not kept for
    the end; the decisions are those of one window."""
    import weakref

    from merlib.collect import filtering

    live: list[tuple[int, weakref.ref]] = []  # (window, crop)
    alive_at_start: list[int] = []
    window = {"n": -1}
    real_crop, real_frames = filtering.face_crop, filtering.iter_frames

    def tracked_crop(frame, face):
        crop, box = real_crop(frame, face)
        live.append((window["n"], weakref.ref(crop)))
        return crop, box

    def counted_frames(*args, **kwargs):
        window["n"] += 1
        alive_at_start.append(sum(1 for w, ref in live if ref() is not None))
        yield from real_frames(*args, **kwargs)

    monkeypatch.setattr(filtering, "face_crop", tracked_crop)
    monkeypatch.setattr(filtering, "iter_frames", counted_frames)
    params = CollectParams(window_gap=0.3)
    spans = [(0.0, 4.0), (4.5, 7.5), (8.0, 12.0)]  # one person, two of one size, two people
    split, _ = filter_segments(scenes, segments_of(scenes, spans), params)
    assert window["n"] == 2 and sum(1 for w, _ in live if w < 2) > 0
    assert alive_at_start == [0, 0, 0], alive_at_start
    monkeypatch.undo()
    whole, _ = filter_segments(scenes, segments_of(scenes, spans), CollectParams())
    assert split.equals(whole), (split.to_pylist(), whole.to_pylist())


def test_a_turns_face_crops_go_when_the_decode_passes_its_end(scenes, monkeypatch):
    """Continuous speech is one decode window (a film's can be an hour long): each turn's
    crops are embedded or dropped at the first frame past its end, not at the window's, so
    segmentation holds one turn's crops (an hour of speech held 1.4 GB before)."""
    import weakref

    from merlib.collect import filtering

    spans = [(0.0, 4.0), (4.5, 7.5), (8.0, 12.0)]  # one person, two of one size, two people
    live: list[tuple[float, weakref.ref]] = []  # (frame time, crop)
    stale: list[int] = []  # after each frame: crops of turns that ended by then, alive
    now = {"t": None}
    real_crop, real_frames = filtering.face_crop, filtering.iter_frames

    def tracked_crop(frame, face):
        crop, box = real_crop(frame, face)
        live.append((now["t"], weakref.ref(crop)))
        return crop, box

    def ended(made: float, t: float) -> bool:
        return any(s <= made < e <= t for s, e in spans)

    def frames(*args, **kwargs):
        for t, frame in real_frames(*args, **kwargs):
            now["t"] = t
            yield t, frame  # when the filter asks for the next frame, it has handled t
            stale.append(sum(1 for made, ref in live if ref() is not None and ended(made, t)))

    monkeypatch.setattr(filtering, "face_crop", tracked_crop)
    monkeypatch.setattr(filtering, "iter_frames", frames)
    whole, timings = filter_segments(scenes, segments_of(scenes, spans), CollectParams())
    assert timings["windows"] == 1
    assert sum(1 for made, _ in live if made < 4.0) >= 5  # the first turn's crops existed
    assert len(stale) == 24 and not any(stale), stale  # 0-12 s at 2 fps, each checked
    monkeypatch.undo()
    split, _ = filter_segments(scenes, segments_of(scenes, spans), CollectParams(window_gap=0.3))
    assert whole.equals(split), (whole.to_pylist(), split.to_pylist())


def test_a_shot_cuts_faces_are_embedded_once_and_their_crops_let_go():
    calls = []

    def embed(crop, box):
        calls.append(crop)
        return np.zeros(3) if crop == "S" else np.ones(3)

    box = (0, 0, 1, 1)
    cut = ShotCut(1.0, 1.5, ("S", box), ("L", box), embed, 0.55)
    cut.settle()
    assert cut.before == () and cut.after == () and calls == ["S", "L"]
    assert cut.other_person() and calls == ["S", "L"]
    lone = ShotCut(2.0, 2.5, None, ("S", box), embed, 0.55)
    lone.settle()
    assert lone.before is None and not lone.other_person() and calls == ["S", "L", "S"]


def test_export_cuts_the_span_with_video_and_audio(scenes, tmp_path):
    decisions = filter_segments(scenes, segments_of(scenes, [(1.0, 3.5)]), CollectParams())[0]
    clips = export_clips(scenes, decisions, tmp_path)
    row = clips.to_pylist()[0]
    assert row["kept"] and row["clip"] == f"video-unlabeled-with-test2noise/{row['name']}.mp4"
    probe = probe_video(tmp_path / row["clip"])
    assert probe.has_audio and probe.has_video
    assert abs(probe.duration - 2.5) < 0.1, probe
    assert not list(tmp_path.rglob(".*tmp*"))  # no temporary file left behind


def test_output_root_is_a_valid_data_root(scenes, tmp_path):
    decisions = filter_segments(
        scenes, segments_of(scenes, [(0.0, 4.0), (4.0, 8.0)]), CollectParams()
    )[0]
    clips = export_clips(scenes, decisions, tmp_path)
    write_release_csvs(clips, tmp_path)
    result = ingest_release(tmp_path, 4)
    manifest = result.manifest.to_pylist()
    assert [r["name"] for r in manifest] == ["scenes_000000000"]
    assert manifest[0]["split"] == "unlabeled" and manifest[0]["transcription"] == "x"


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, shared_data, clip_dir) -> Path:
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    (d / "truncated.mp4").write_bytes((clip_dir / "truncated.mp4").read_bytes())
    (d / "noaudio.mp4").write_bytes((clip_dir / "noaudio.mp4").read_bytes())
    speech = shared_data / "audio" / "librispeech" / "1688-142285-0000.flac"
    ffmpeg("-i", str(speech), "-c:a", "aac", str(d / "novideo.mp4"))
    (d / "garbled.mp4").write_bytes((clip_dir / "face.mp4").read_bytes())
    (d / "garbled.srt").write_bytes(b"\x00\xff\x10garbage" * 50)
    return d


@pytest.mark.parametrize(
    "name, reason",
    [
        ("empty.mp4", "file is empty (0 bytes)"),
        ("text.mp4", "not a readable video"),
        ("truncated.mp4", "not a readable video"),
        ("noaudio.mp4", "no audio track"),
        ("novideo.mp4", "no video track"),
        ("garbled.mp4", "garbled.srt"),
    ],
)
def test_bad_video_becomes_one_row_with_its_reason(bad_inputs, name, reason):
    video = bad_inputs / name
    segments = cut_segments(video, CollectParams(), find_subtitle(video))
    rows = segments.to_pylist()
    assert len(rows) == 1 and reason in rows[0]["reason"], rows
    assert rows[0]["name"] == video.stem and rows[0]["video"] == name
    decisions, _ = filter_segments(video, segments, CollectParams())
    assert decisions.to_pylist()[0]["kept"] is False


def test_vad_and_turn_assembly_join_one_voice_and_split_two(shared_data):
    libri = shared_data / "audio" / "librispeech"
    parts = ["1688-142285-0000", "1688-142285-0001", "2414-128291-0000"]
    gap = np.zeros(int(0.3 * 16000), np.float32)
    pieces, starts, pos = [], [], 0
    for part in parts:
        wav, sr = sf.read(libri / f"{part}.flac", dtype="float32")
        assert sr == 16000
        wav = wav[: 6 * sr]
        pieces += [wav, gap]
        starts.append(pos / sr)
        pos += wav.size + gap.size
    pcm = (np.concatenate(pieces) * 32767).astype(np.int16)
    speech = vad_segments(pcm, 16000)
    assert len(speech) >= 3 and speech[0][0] < 1.0
    params = CollectParams()
    turns = assemble_turns(
        speech,
        pcm,
        16000,
        resemblyzer_embedder(),
        params.merge_max_gap,
        params.merge_min_similarity,
        params.merge_min_speech,
    )
    assert len(turns) < len(speech)  # pauses within one voice are merged...
    change = starts[2]  # ...but never across the change of speaker
    assert not [m for m in turns if m[0] < change - 0.2 and m[1] > change + 0.2], turns


def _fake_voices(segments, speaker, voices):
    """pcm marking each segment's first sample with its index, and an embedder that
    reads the marks: the voice of a stretch of audio is its speakers' voices weighted by
    how long each speaks in it."""
    pcm = np.zeros(int((segments[-1][1] + 1) * 16000), np.int16)
    for i, (s, _) in enumerate(segments):
        pcm[int(s * 16000)] = i + 1

    def embed(wav):
        marks = np.flatnonzero(wav)
        lengths = np.diff(np.append(marks, len(wav)))
        ids = np.round(wav[marks] * 32768).astype(int) - 1
        return sum(n * np.array(voices[speaker[i]]) for i, n in zip(ids, lengths, strict=True))

    return pcm, embed


def test_turns_need_a_short_gap_a_similar_voice_and_no_cut_to_another_face():
    voices = {0: [1.0, 0.0], 1: [0.96, 0.28], 2: [0.0, 1.0]}  # cos(0, 1) = 0.96
    speaker = [0, 0, 1, 2, 2, 2, 2]
    segments = [(0, 1.5), (1.7, 3), (3.3, 4.5), (4.6, 6), (7.5, 9), (9.2, 10.5), (10.7, 12)]
    pcm, embed = _fake_voices(segments, speaker, voices)
    turns = assemble_turns(segments, pcm, 16000, embed, 1.0, 0.9)
    # 0+1+2 (same voice, then a similar one), not 3 (other voice), not 4 (gap 1.5 s)
    assert turns == [(0, 4.5), (4.6, 6), (7.5, 12)]
    turns = assemble_turns(segments, pcm, 16000, embed, 1.0, 0.9, other_face=lambda i: i == 5)
    assert turns == [(0, 4.5), (4.6, 6), (7.5, 9), (9.2, 12)]  # a cut to another face


def test_a_voice_judged_twice_is_embedded_once():
    # 0 | 1 | 2, three voices: piece 1 is heard as "the next voice" against 0, then, not
    # joined, as the turn so far against 2 (the same audio both times)
    voices = {0: [1.0, 0.0], 1: [0.0, 1.0], 2: [-1.0, 0.0]}
    segments = [(0, 1.5), (1.7, 3), (3.3, 4.5)]
    pcm, embed = _fake_voices(segments, [0, 1, 2], voices)
    heard = []

    def counting(wav):
        heard.append(len(wav))
        return embed(wav)

    turns = assemble_turns(segments, pcm, 16000, counting, 1.0, 0.9)
    assert turns == segments
    assert len(heard) == 3  # 0, 1 (once, not twice), 2


def test_a_turn_is_judged_on_enough_speech_not_on_a_tiny_piece():
    # the 0.3 s piece 1 sounds like nobody (a tiny piece's embedding is unreliable):
    # judged together with the piece after it (min_speech 1 s), the turn goes on
    voices = {0: [1.0, 0.0], 9: [0.0, 1.0]}
    segments = [(0, 2), (2.2, 2.5), (2.7, 4)]
    pcm, embed = _fake_voices(segments, [0, 9, 0], voices)
    assert assemble_turns(segments, pcm, 16000, embed, 1.0, 0.9, 1.0) == [(0, 4)]
    # nothing after it: the voice decides, unless the video says there is no other face
    two = segments[:2]
    assert assemble_turns(two, pcm, 16000, embed, 1.0, 0.9, 1.0) == two
    same_face = assemble_turns(two, pcm, 16000, embed, 1.0, 0.9, 1.0, other_face=lambda i: False)
    assert same_face == [(0, 2.5)]


def test_a_turn_longer_than_max_duration_is_split_at_its_longest_pauses():
    pieces = [(0, 5), (5.2, 9), (10.4, 14), (14.3, 20), (21.0, 22)]
    parts = split_long_turn(pieces, 10.0)
    assert [(p[0][0], p[-1][1]) for p in parts] == [(0, 9), (10.4, 20), (21.0, 22)]
    assert split_long_turn([(0, 30)], 10.0) == [[(0, 30)]]  # no pause: as it is
    speaker = [0] * 5
    pcm, embed = _fake_voices(pieces, speaker, {0: [1.0, 0.0]})
    turns = assemble_turns(pieces, pcm, 16000, embed, 1.5, 0.9, max_duration=10.0)
    assert turns == [(0, 9), (10.4, 20), (21.0, 22)]


def test_sampled_frame_is_the_one_on_screen_at_its_time(tmp_path):
    # white until 1.08 s, black after (25 fps): the 2 fps frame for 1.0 s is still white
    video = tmp_path / "flash.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "color=c=white:s=64x48:r=25:d=1.08", "-f", "lavfi"),
        *("-i", "color=c=black:s=64x48:r=25:d=1.92", "-filter_complex"),
        *("[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-pix_fmt"),
        *("yuv420p", str(video)),
    )
    means = {t: float(f.mean()) for t, f in iter_frames(video, 0.0, 3.0, 2.0)}
    assert means[1.0] > 200 and means[1.5] < 50, means


def test_two_hour_video_is_sampled_only_inside_its_segments(tmp_path):
    video = tmp_path / "long.mkv"
    ffmpeg(
        *("-f", "lavfi", "-i", "color=c=gray:s=64x48:r=1", "-f", "lavfi"),
        *("-i", "anullsrc=r=8000:cl=mono", "-t", "7200", "-c:v", "libx264", "-preset"),
        *("ultrafast", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "flac", str(video)),
    )
    (tmp_path / "long.srt").write_text(
        "1\n00:10:00,000 --> 00:10:04,000\n第一句\n\n"
        "2\n01:00:00,000 --> 01:00:05,000\n第二句\n\n"
        "3\n01:59:50,000 --> 01:59:55,000\n第三句\n",
        encoding="utf-8",
    )
    params = CollectParams()
    segments = cut_segments(video, params, find_subtitle(video))
    assert segments.column("text").to_pylist() == ["第一句", "第二句", "第三句"]
    decisions, timings = filter_segments(video, segments, params)
    assert timings["windows"] == 3
    assert timings["frames"] == 8 + 10 + 10  # 2 fps inside the cues, nothing else
    assert all("one main face in 0 of" in r for r in decisions.column("reason").to_pylist())


def test_detector_model_url_is_saved_only_with_the_right_sha256(tmp_path):
    sha = hashlib.sha256(YUNET_ONNX.read_bytes()).hexdigest()
    out = fetch_checked(YUNET_ONNX.as_uri(), sha, tmp_path / "m" / "yunet.onnx")
    assert out.read_bytes() == YUNET_ONNX.read_bytes()
    with pytest.raises(ValueError, match="sha256 is"):
        fetch_checked(YUNET_ONNX.as_uri(), "0" * 64, tmp_path / "bad.onnx")
    assert not (tmp_path / "bad.onnx").exists()


def test_video_ids_are_safe_and_unique(tmp_path):
    for name in ("a b.mp4", "a b.srt", "c.mkv", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert list_videos(tmp_path) == {"a_b": "a b.mp4", "c": "c.mkv"}
    assert find_subtitle(tmp_path / "a b.mp4") == tmp_path / "a b.srt"
    (tmp_path / "a_b.mov").write_bytes(b"")
    with pytest.raises(ValueError, match="same video id"):
        list_videos(tmp_path)


def test_subtitle_cues_become_segments_and_bad_cues_keep_a_reason(tmp_path, clip_dir):
    video = tmp_path / "ep.mp4"
    video.write_bytes((clip_dir / "face.mp4").read_bytes())  # 3 s
    (tmp_path / "ep.srt").write_text(
        "1\n00:00:00,500 --> 00:00:02,900\n<b>你好</b>\n\n"
        "2\n00:00:02,000 --> 00:00:01,000\nbackwards\n\n"
        "3\n00:00:09,000 --> 00:00:12,000\nafter the end\n",
        encoding="gb18030",
    )
    rows = cut_segments(video, CollectParams(), tmp_path / "ep.srt").to_pylist()
    assert [(r["start"], r["end"], r["text"]) for r in rows] == [
        (0.5, 2.9, "你好"),
        (2.0, 1.0, "backwards"),
        (9.0, 12.0, "after the end"),
    ]
    assert rows[0]["reason"] is None and rows[0]["name"] == "ep_000000500"
    assert "ends" in rows[1]["reason"] and "after the end of the video" in rows[2]["reason"]


FLASH = "color=c=black:s=160x120:r=25:d=5,drawbox=c=white:t=fill:enable='between(t,2,2.07)'"


def _beep(at: float, seconds: float) -> str:
    return f"aevalsrc='if(between(t,{at},{at + 0.05}),sin(2*PI*1000*t),0)':s=16000:d={seconds}"


@pytest.fixture(scope="module")
def odd_timing(tmp_path_factory) -> Path:
    """5 s videos with a white flash and a beep together at 2.0 s of the file's timeline:
    variable frame rate, rotation metadata, audio 3 s longer, audio starting 0.5 s late
    and ending 1.5 s early."""
    d = tmp_path_factory.mktemp("odd_timing")
    h264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg("-f", "lavfi", "-i", FLASH, "-f", "lavfi", "-i", _beep(2, 5), *h264, str(d / "p.mp4"))
    vfr = FLASH + r",select='gte(t\,1.5)+not(mod(n\,3))'"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        vfr,
        "-f",
        "lavfi",
        "-i",
        _beep(2, 5),
        "-fps_mode",
        "vfr",
        *h264,
        str(d / "vfr.mp4"),
    )
    ffmpeg("-display_rotation", "90", "-i", str(d / "p.mp4"), "-c", "copy", str(d / "rotated.mp4"))
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        FLASH,
        "-f",
        "lavfi",
        "-i",
        _beep(2, 8),
        *h264,
        str(d / "longaudio.mp4"),
    )
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        FLASH,
        "-itsoffset",
        "0.5",
        "-f",
        "lavfi",
        "-i",
        _beep(1.5, 3),
        *h264,
        str(d / "lateshortaudio.mp4"),
    )
    return d


def _flash_and_beep(path: Path) -> tuple[float, float]:
    """Seconds of the brightest frame (its timestamp) and of the first loud sample."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-i", str(path), "-map", "0:v:0", "-vf", "scale=16:12,showinfo"]
        + ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    )
    times = [float(t) for t in re.findall(r"pts_time:([0-9.]+)", proc.stderr.decode())]
    brightness = np.frombuffer(proc.stdout, np.uint8).reshape(len(times), -1).mean(axis=1)
    pcm = decode_audio(path, 16000, from_zero=True).astype(np.float64)
    return times[int(np.argmax(brightness))], int(np.argmax(np.abs(pcm) > 3000)) / 16000


@pytest.mark.parametrize("name", ["vfr.mp4", "rotated.mp4", "longaudio.mp4", "lateshortaudio.mp4"])
def test_odd_timing_keeps_source_seconds_and_exported_sound_in_sync(odd_timing, name, tmp_path):
    video = odd_timing / name
    flash, beep = _flash_and_beep(video)
    assert abs(flash - 2.0) < 0.04 and abs(beep - 2.0) < 0.02, (flash, beep)  # source seconds
    frames = dict(iter_frames(video, 1.0, 3.0, 2.0))
    assert frames[2.0].mean() > 200 and frames[1.5].mean() < 50  # the 2 fps grid agrees
    kept = {**segments_of(video, [(1.0, 4.0)]).to_pylist()[0], "kept": True}
    decisions = table_from_rows([kept], COLLECT_CLIPS)
    row = export_clips(video, decisions, tmp_path).to_pylist()[0]
    flash, beep = _flash_and_beep(tmp_path / row["clip"])
    assert abs(flash - 1.0) < 0.04 and abs(beep - flash) < 0.04, (flash, beep)


def test_adjacent_cues_of_one_face_merge_and_a_cut_to_another_face_does_not(shared_data, tmp_path):
    cuts = shared_data / "video" / "grid-cuts"
    video = tmp_path / "cuts.mp4"
    video.write_bytes((cuts / "grid_4speakers_cuts.mp4").read_bytes())
    # speaker A's cue split in two (0.1 s apart), then B, C, D as in the fixture
    srt = (cuts / "grid_4speakers_cuts.srt").read_text(encoding="utf-8")
    srt = srt.replace(
        "00:00:00,950 --> 00:00:02,120\n[A] bin blue at f two now",
        "00:00:00,950 --> 00:00:01,500\n[A] bin blue at\n\n"
        "9\n00:00:01,600 --> 00:00:02,120\n[A] f two now",
    )
    (tmp_path / "cuts.srt").write_text(srt, encoding="utf-8")
    off = cut_segments(video, CollectParams(), tmp_path / "cuts.srt")
    assert off.num_rows == 5  # off by default: every cue a candidate
    params = CollectParams(subtitle_merge_max_gap=1.0)  # A-B, B-C, C-D within 1 s
    rows = cut_segments(video, params, tmp_path / "cuts.srt").to_pylist()
    assert [(r["start"], r["end"]) for r in rows] == [
        (0.95, 2.12),
        (3.05, 5.95),
        (6.49, 8.21),
        (9.05, 11.95),
    ]
    assert rows[0]["text"] == "[A] bin blue at [A] f two now"
