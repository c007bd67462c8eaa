"""media.face_align (box | arcface) and media.face_fps: native, each pinned on a small
hand-computed case (docs/reference.md, faces row)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from merlib import protocol
from merlib.av.decode import decode_frames, native_fps
from merlib.config_check import config_problems
from merlib.errors import VideoLoadingError
from merlib.faces import alignment, detection
from merlib.faces.crops import aligned_crop, crop_face
from merlib.faces.detection import Face, make_detector
from merlib.media.params import MediaParams
from merlib.media.shard import extract_shard

# The ArcFace template written out again here, so the test does not trust the module's copy.
TEMPLATE = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
]


def test_template_is_the_arcface_five_points():
    assert np.allclose(alignment.ARCFACE_112, TEMPLATE, atol=0)
    assert np.allclose(alignment.template(224), np.array(TEMPLATE) * 2)


def test_landmarks_rotated_scaled_and_shifted_map_back_onto_the_template():
    # Template points p rotated by 90 degrees ((x, y) -> (-y, x)), scaled by 2, shifted by
    # (300, 50): p' = (300 - 2y, 50 + 2x), computed by hand.
    landmarks = [
        [196.6074, 126.5892],
        [196.9972, 197.0636],
        [156.5268, 162.0504],
        [115.2690, 133.0986],
        [115.5918, 191.4598],
    ]
    matrix = alignment.similarity_matrix(np.array(landmarks), 112)
    # The inverse: p = (p'y / 2 - 25, 150 - p'x / 2).
    assert np.allclose(matrix, [[0.0, 0.5, -25.0], [-0.5, 0.0, 150.0]], atol=1e-6)
    mapped = np.hstack([landmarks, np.ones((5, 1))]) @ matrix.T
    assert np.allclose(mapped, TEMPLATE, atol=1e-6)


def _coordinate_image(side: int) -> np.ndarray:
    """Channel 0 = x, channel 1 = y, channel 2 = 7: every pixel names its own place."""
    ys, xs = np.mgrid[0:side, 0:side]
    return np.dstack([xs, ys, np.full_like(xs, 7)]).astype(np.uint8)


def test_aligned_crop_of_a_shifted_face_is_the_shifted_window():
    frame = _coordinate_image(200)
    landmarks = np.array(TEMPLATE) + [10.0, 20.0]
    crop = alignment.align_face(frame, landmarks, 112)
    assert crop.shape == (112, 112, 3)
    # crop[v, u] = frame[v + 20, u + 10] = (u + 10, v + 20, 7)
    assert crop[0, 0].tolist() == [10, 20, 7]
    assert crop[5, 3].tolist() == [13, 25, 7]
    assert crop[111, 111].tolist() == [121, 131, 7]


def test_aligned_crop_of_a_face_twice_the_template_size_samples_every_second_pixel():
    frame = _coordinate_image(240)
    crop = alignment.align_face(frame, np.array(TEMPLATE) * 2, 112)
    # crop[v, u] = frame[2v, 2u] = (2u, 2v, 7)
    assert crop[0, 0].tolist() == [0, 0, 7]
    assert crop[10, 3].tolist() == [6, 20, 7]
    assert crop[111, 100].tolist() == [200, 222, 7]


def test_degenerate_landmarks_raise_naming_them():
    with pytest.raises(VideoLoadingError, match="no similarity transform"):
        alignment.similarity_matrix(np.zeros((5, 2)), 112)


@pytest.mark.parametrize("kind", ["opencv", "yuface"])
def test_both_detectors_give_five_landmarks_in_yunet_order(clip_dir, kind):
    frames, _ = decode_frames(clip_dir / "face.mp4", fps=1)
    (face,) = make_detector(kind)(frames[0])
    points = np.reshape(face.landmarks, (5, 2))
    assert np.all(points[:, 0] >= face.x) and np.all(points[:, 0] <= face.x + face.w)
    assert np.all(points[:, 1] >= face.y) and np.all(points[:, 1] <= face.y + face.h)
    right_eye, left_eye, nose, right_mouth, left_mouth = points
    assert right_eye[0] < left_eye[0] and right_mouth[0] < left_mouth[0]  # image left first
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])


def test_arcface_crops_put_the_eyes_on_the_template(clip_dir):
    params = MediaParams(face_fps=1, face_align="arcface")
    _, faces, rejects = extract_shard(
        [{"name": "face", "path": "face.mp4"}], clip_dir, params, workers=1
    )
    assert rejects.num_rows == 0 and faces.num_rows == 3
    crop = cv2.imdecode(np.frombuffer(faces.column("crop")[0].as_py(), np.uint8), 1)
    assert crop.shape == (112, 112, 3)
    # The detector run on the aligned crop, upscaled, finds the eyes where the template has
    # them (within 4 template pixels: the detector's own landmark noise).
    big = cv2.resize(crop, (448, 448), interpolation=cv2.INTER_CUBIC)
    (face,) = make_detector("opencv")(big)
    eyes = np.reshape(face.landmarks, (5, 2))[:2] / 4
    assert np.allclose(eyes, TEMPLATE[:2], atol=4)


def test_arcface_needs_landmarks_and_says_so():
    face = Face(0.9, 10, 10, 40, 40)  # no landmarks
    with pytest.raises(VideoLoadingError, match=r"clip\.mp4: face_align arcface needs"):
        aligned_crop(np.zeros((64, 64, 3), np.uint8), face, "arcface", 112, "clip.mp4", "yuface")


def test_a_face_without_landmarks_rejects_the_clips_visual_modality(clip_dir, monkeypatch):
    def no_landmarks(kind, model=None, score=0.6):
        return lambda frame: [Face(0.9, 10, 10, 40, 40)]

    monkeypatch.setattr(detection, "make_detector", no_landmarks)
    params = MediaParams(face_fps=1, face_align="arcface")
    audio, faces, rejects = extract_shard(
        [{"name": "face", "path": "face.mp4"}], clip_dir, params, workers=1
    )
    assert audio.num_rows == 1 and faces.num_rows == 0
    [reject] = rejects.to_pylist()
    assert reject["modality"] == "visual"
    assert "face.mp4: face_align arcface needs the detector's five landmarks" in reject["reason"]


def test_box_crop_is_the_default_and_ignores_landmarks():
    frame = _coordinate_image(200)
    face = Face(0.9, 40, 40, 80, 80, tuple(float(v) for v in np.ravel(TEMPLATE)))
    params = MediaParams()
    crop = aligned_crop(frame, face, params.face_align, params.face_size, "clip.mp4", "opencv")
    assert np.array_equal(crop, crop_face(frame, face, 112))


def test_native_fps_samples_every_frame_at_the_videos_rate(clip_dir):
    # conftest's clips are 3 s at 10 frames per second.
    assert native_fps(clip_dir / "face.mp4") == 10.0
    params = MediaParams(face_fps="native")
    _, faces, rejects = extract_shard(
        [{"name": "face", "path": "face.mp4"}], clip_dir, params, workers=1
    )
    assert rejects.num_rows == 0
    assert faces.column("frame").to_pylist() == list(range(30))
    assert np.allclose(faces.column("time").to_pylist(), np.arange(30) / 10)


def test_native_fps_of_a_file_that_is_not_a_video_is_a_visual_reject(clip_dir):
    params = MediaParams(face_fps="native")
    audio, faces, rejects = extract_shard(
        [{"name": "text", "path": "text.mp4"}], clip_dir, params, workers=1
    )
    assert audio.num_rows == 0 and faces.num_rows == 0
    rows = rejects.to_pylist()
    reasons = {r["modality"]: r["reason"] for r in rows}
    assert "text.mp4" in reasons["visual"] and "frame rate cannot be read" in reasons["visual"]
    assert "text.mp4" in reasons["audio"]


def test_protocol_sets_both_face_options():
    nulls = {"media": {"face_fps": None, "face_align": None}}
    assert protocol.resolve(nulls)["media"] == {"face_fps": 4, "face_align": "box"}
    reference = protocol.resolve(nulls | {"protocol": "reference"})["media"]
    assert reference == {"face_fps": "native", "face_align": "arcface"}
    explicit = protocol.resolve({"protocol": "reference", "media": {"face_fps": 2}})
    assert explicit["media"] == {"face_fps": 2, "face_align": "arcface"}


def test_schema_takes_native_or_a_rate_and_names_a_bad_face_fps():
    repo = Path(__file__).resolve().parents[3]
    schema = yaml.safe_load((repo / "schemas" / "config.schema.yaml").read_text())
    config = yaml.safe_load((repo / "config.yaml").read_text())
    assert config["media"]["face_fps"] is None and config["media"]["face_align"] is None
    for good in ("native", 2.5, None):
        config["media"] = {**config["media"], "face_fps": good, "face_align": "arcface"}
        assert config_problems(config, schema) == []
    config["media"]["face_fps"] = "every"
    [problem] = config_problems(config, schema)
    assert problem.startswith("media.face_fps: 'every'")
    config["media"] = {**config["media"], "face_fps": 4, "face_align": "openface"}
    [problem] = config_problems(config, schema)
    assert problem.startswith("media.face_align: 'openface' is not allowed")
