"""Media extraction on real media: audio, sampled frames, face crops, per-modality reasons."""

from __future__ import annotations

import subprocess
import threading

import cv2
import numpy as np
import pytest
from conftest import YUNET_ONNX

from merlib.av.decode import (
    DETECT_MAX_SIDE,
    decode_audio,
    decode_frames,
    decode_together,
    has_video_track,
    native_fps,
    read_video,
)
from merlib.av.ffmpeg import ffmpeg_exe
from merlib.errors import AudioLoadingError, NoVideoTrackError, VideoLoadingError
from merlib.faces import detection
from merlib.faces.crops import crop_face
from merlib.faces.detection import Face, make_detector
from merlib.media.params import MediaParams
from merlib.media.paths import safe_clip_path
from merlib.media.shard import extract_shard
from merlib.schemas import AUDIO, FACES, MEDIA_REJECTS


def test_decode_audio_gives_16k_mono_int16_of_the_clip_length(clip_dir):
    pcm = decode_audio(clip_dir / "face.mp4", 16000)
    assert pcm.dtype == np.int16
    assert abs(pcm.size / 16000 - 3.0) < 0.1
    assert np.abs(pcm).max() > 1000  # real speech, not silence


def test_decode_frames_samples_at_the_requested_rate(clip_dir):
    frames, scale = decode_frames(clip_dir / "face.mp4", fps=4)
    assert len(frames) == 12
    assert frames[0].ndim == 3 and frames[0].shape[2] == 3
    assert max(frames[0].shape[:2]) <= DETECT_MAX_SIDE
    assert 0 < scale <= 1


@pytest.mark.parametrize(
    "name, error, reason",
    [
        ("noaudio.mp4", AudioLoadingError, "no audio track"),
        ("truncated.mp4", AudioLoadingError, "audio does not decode"),
        ("empty.mp4", AudioLoadingError, "file is empty"),
        ("text.mp4", AudioLoadingError, "audio does not decode"),
        ("missing.mp4", AudioLoadingError, "file does not exist"),
    ],
)
def test_undecodable_audio_raises_naming_file_and_cause(clip_dir, name, error, reason):
    with pytest.raises(error, match=reason) as info:
        decode_audio(clip_dir / name)
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["truncated.mp4", "empty.mp4", "text.mp4"])
def test_undecodable_video_raises_naming_the_file(clip_dir, name):
    with pytest.raises(VideoLoadingError, match=name):
        decode_frames(clip_dir / name, fps=4)


@pytest.mark.parametrize("kind", ["yuface", "opencv"])
def test_yunet_detectors_count_one_and_two_faces(clip_dir, kind):
    if kind == "opencv" and not YUNET_ONNX.is_file():
        pytest.skip(f"{YUNET_ONNX} not present")
    detect = make_detector(kind, str(YUNET_ONNX), 0.6)
    one, _ = decode_frames(clip_dir / "face.mp4", fps=1)
    two, _ = decode_frames(clip_dir / "two.mp4", fps=1)
    none, _ = decode_frames(clip_dir / "noface.mp4", fps=1)
    assert len(detect(one[0])) == 1
    assert len(detect(two[0])) == 2
    assert detect(none[0]) == []


def test_unknown_detector_or_missing_onnx_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown face detector 'mtcnn'"):
        make_detector("mtcnn")
    with pytest.raises(FileNotFoundError, match="YuNet ONNX model not found"):
        make_detector("opencv", str(tmp_path / "none.onnx"))


def test_crop_face_is_square_of_requested_size_even_at_the_border():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:40, :40] = 255
    crop = crop_face(frame, Face(0.9, -10, -10, 50, 50), 64)
    assert crop.shape == (64, 64, 3)
    assert crop.mean() > 100  # centred on the white corner, padding replicates its edge


def test_extract_shard_keeps_every_clip_and_records_modality_reasons(clip_dir):
    clips = [{"name": n, "path": f"{n}.mp4"} for n in ("face", "noface", "noaudio", "truncated")]
    audio, faces, rejects = extract_shard(clips, clip_dir, MediaParams(), workers=2)
    assert audio.schema.equals(AUDIO) and faces.schema.equals(FACES)
    assert rejects.schema.equals(MEDIA_REJECTS)
    assert sorted(audio.column("name").to_pylist()) == ["face", "noface"]
    face_rows = [r for r in faces.to_pylist() if r["name"] == "face"]
    assert len(face_rows) == 12 and all(r["n_faces"] == 1 for r in face_rows)
    crop = cv2.imdecode(np.frombuffer(face_rows[0]["crop"], np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape == (112, 112, 3)
    assert set(faces.column("name").to_pylist()) == {"face", "noaudio"}
    reasons = {(r["name"], r["modality"]): r["reason"] for r in rejects.to_pylist()}
    assert "no face found" in reasons[("noface", "visual")]
    assert "no audio track" in reasons[("noaudio", "audio")]
    assert "does not decode" in reasons[("truncated", "audio")]
    assert "does not decode" in reasons[("truncated", "visual")]
    assert len(reasons) == 4


@pytest.mark.parametrize("face_fps", [4.0, "native"])
def test_clip_without_video_stream_keeps_its_audio_and_says_why_it_has_no_faces(clip_dir, face_fps):
    clips = [{"name": "novideo", "path": "novideo.mp4"}]
    audio, faces, rejects = extract_shard(clips, clip_dir, MediaParams(face_fps=face_fps))
    assert audio.column("name").to_pylist() == ["novideo"]
    assert np.array_equal(
        np.frombuffer(audio.column("pcm")[0].as_py(), "<i2"),
        decode_audio(clip_dir / "novideo.mp4"),
    )
    assert faces.num_rows == 0
    [reject] = rejects.to_pylist()
    assert reject["modality"] == "visual"
    assert reject["reason"].endswith(
        "novideo.mp4: no video track (the file holds no video stream, audio only)"
    )


def test_no_video_stream_is_its_own_error_wherever_frames_are_read(clip_dir):
    path = clip_dir / "novideo.mp4"
    assert not has_video_track(path)
    assert has_video_track(clip_dir / "noaudio.mp4") and has_video_track(clip_dir / "text.mp4")
    for read in (read_video, native_fps, lambda p: decode_frames(p, 1.0)):
        with pytest.raises(NoVideoTrackError, match="no video track"):
            read(path)
    with pytest.raises(VideoLoadingError) as broken:
        read_video(clip_dir / "truncated.mp4")
    assert not isinstance(broken.value, NoVideoTrackError)


def test_clip_paths_that_escape_data_root_are_refused(tmp_path):
    with pytest.raises(ValueError, match="escapes data_root"):
        safe_clip_path(tmp_path, "../outside.mp4")
    with pytest.raises(ValueError, match="escapes data_root"):
        safe_clip_path(tmp_path, "/etc/passwd")


def test_one_frame_video_gives_its_frame_and_its_face(clip_dir, tmp_path):
    one = tmp_path / "one-frame.mp4"
    args = [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(clip_dir / "face.mp4")]
    subprocess.run(args + ["-frames:v", "1", "-an", str(one)], check=True, timeout=60)
    frames, _ = decode_frames(one, fps=4)
    assert len(frames) == 1
    assert len(make_detector("yuface")(frames[0])) == 1


def test_truncated_faststart_mp4_is_rejected_though_its_start_decodes(clip_dir, tmp_path):
    faststart = tmp_path / "faststart.mp4"
    args = [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(clip_dir / "face.mp4")]
    subprocess.run(args + ["-c", "copy", "-movflags", "+faststart", str(faststart)], check=True)
    decode_audio(faststart)  # the whole file decodes
    cut = tmp_path / "cut.mp4"
    data = faststart.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioLoadingError, match="cut.mp4: file is truncated"):
        decode_audio(cut)
    with pytest.raises(VideoLoadingError, match="cut.mp4: file is truncated"):
        decode_frames(cut, fps=4)


def test_shipped_yunet_onnx_is_the_opencv_default_and_intact():
    import hashlib

    assert MediaParams().detector == "opencv"
    digest = hashlib.sha256(detection.YUNET_ONNX.read_bytes()).hexdigest()
    assert digest == "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
    assert (detection.YUNET_ONNX.parent / "LICENSE").read_text().startswith("MIT License")
    frame = cv2.imread(str(YUNET_ONNX.parents[1] / "data" / "images" / "obama.jpg"))
    frame = cv2.resize(frame, None, fx=0.5, fy=0.5)
    assert len(make_detector("opencv", None, 0.6)(frame)) == 1


def test_one_ffmpeg_decode_equals_the_separate_decodes(clip_dir):
    pcm, frames, scale = decode_together(clip_dir / "face.mp4", 16000, 4.0)
    alone, alone_scale = decode_frames(clip_dir / "face.mp4", 4.0)
    assert np.array_equal(pcm, decode_audio(clip_dir / "face.mp4", 16000))
    assert len(frames) == len(alone) == 12 and scale == alone_scale
    assert all(np.array_equal(a, b) for a, b in zip(frames, alone, strict=True))


@pytest.mark.parametrize("name", ["noaudio.mp4", "truncated.mp4", "empty.mp4", "missing.mp4"])
def test_one_ffmpeg_decode_gives_way_on_any_problem(clip_dir, name):
    # The per-modality decodes then name each cause (test above on extract_shard).
    assert decode_together(clip_dir / name, 16000, 4.0) is None


def test_worker_threads_keep_clip_order_and_each_make_their_own_detector(clip_dir, monkeypatch):
    made = []
    real = make_detector

    def counting(kind, model=None, score=0.6):
        made.append(threading.get_ident())
        return real(kind, model, score)

    monkeypatch.setattr(detection, "make_detector", counting)
    names = ["two", "face", "noaudio", "face", "two", "noface"]
    clips = [{"name": f"{n}{i}", "path": f"{n}.mp4"} for i, n in enumerate(names)]
    params = MediaParams(face_fps=1)
    audio, faces, rejects = extract_shard(clips, clip_dir, params, workers=2)
    assert audio.column("name").to_pylist() == ["two0", "face1", "face3", "two4", "noface5"]
    face_names = faces.column("name").to_pylist()
    assert face_names == sorted(face_names, key=lambda n: int(n[-1]))  # clip order kept
    # one made up front (a missing model fails the shard at once), then at most one per
    # worker thread, however many clips it takes
    workers = made[1:]
    assert 1 <= len(workers) <= 2 and len(set(workers)) == len(workers) and made[0] not in workers
