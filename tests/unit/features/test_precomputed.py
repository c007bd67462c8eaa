"""The precomputed backend: per-clip .npy files in MERTools' layout (one folder per
feature, <name>.npy; utterance vectors as they are, frame-level ones averaged)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from merlib.features.base import build_encoder
from merlib.features.extraction import extract_shard, feature_flags
from merlib.features.precomputed_encoder import FeatureFileError, read_vector
from merlib.schemas import MANIFEST, table_from_rows

DIM = 8


def _manifest(names: list[str]):
    rows = [
        {"name": n, "split": "labeled", "path": f"video-labeled/{n}.mp4", "discrete": "happy",
         "transcription": "", "shard": "000"}
        for n in names
    ]  # fmt: skip
    return table_from_rows(rows, MANIFEST)


@pytest.fixture
def release_features(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    """A feature folder as MERTools writes it: utterance (dim,), (1, dim) and frame-level
    (frames, dim) files, a missing clip, a misshaped one and an unreadable one."""
    folder = tmp_path / "features" / "chinese-hubert-large-UTT"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    expected = {}
    utt = rng.normal(size=DIM).astype(np.float32)
    np.save(folder / "a_utt.npy", utt)
    expected["a_utt"] = utt
    row = rng.normal(size=(1, DIM)).astype(np.float32)
    np.save(folder / "b_row.npy", row)
    expected["b_row"] = row[0]
    frames = rng.normal(size=(5, DIM)).astype(np.float32)
    np.save(folder / "c_frames.npy", frames)
    expected["c_frames"] = frames.mean(axis=0)
    np.save(folder / "d_short.npy", rng.normal(size=DIM - 3).astype(np.float32))
    np.save(folder / "e_cube.npy", rng.normal(size=(2, 3, DIM)).astype(np.float32))
    (folder / "f_text.npy").write_text("not an array")
    np.save(folder / "g_nan.npy", np.full(DIM, np.nan, dtype=np.float32))
    return folder, expected


def spec(folder: Path, modality: str = "audio", **options) -> dict:
    return {"modality": modality, "backend": "precomputed", "model": str(folder),
            "options": options}  # fmt: skip


@pytest.mark.parametrize("modality", ["audio", "visual", "text"])
def test_vectors_are_read_as_released_and_frames_averaged(release_features, modality):
    folder, expected = release_features
    names = ["a_utt", "b_row", "c_frames"]
    features, rejects = extract_shard("x", spec(folder, modality), _manifest(names), None, None)
    assert rejects.num_rows == 0
    assert features.column("name").to_pylist() == names
    got = np.array(features.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(got, np.stack([expected[n] for n in names]), rtol=1e-6)


def test_missing_and_misshaped_files_are_rejected_per_clip_with_the_reason(release_features):
    folder, _ = release_features
    names = ["a_utt", "missing", "d_short", "e_cube", "f_text", "g_nan"]
    features, rejects = extract_shard("hubert", spec(folder), _manifest(names), None, None)
    assert features.column("name").to_pylist() == ["a_utt"]
    reasons = dict(zip(*rejects.to_pydict().values(), strict=True))
    assert reasons["missing"] == f"{folder}/missing.npy: no precomputed feature file"
    assert reasons["d_short"] == f"{folder}/d_short.npy: {DIM - 3} values; expected {DIM}"
    assert "shape (2, 3, 8); expected (dim,), (1, dim) or (frames, dim)" in reasons["e_cube"]
    assert "not a readable .npy array" in reasons["f_text"]
    assert reasons["g_nan"] == "clip g_nan: feature hubert gave non-finite values (NaN or inf)"


def test_size_from_options_wins_over_the_first_file(release_features):
    folder, _ = release_features
    encoder = build_encoder("x", spec(folder, dim=DIM - 3))
    assert encoder.dim == DIM - 3
    features, rejects = extract_shard(
        "x", spec(folder, dim=DIM - 3), _manifest(["a_utt", "d_short"]), None, None
    )
    assert features.column("name").to_pylist() == ["d_short"]
    assert "8 values; expected 5" in rejects.column("reason")[0].as_py()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nope", "is not a folder of <name>.npy files"),
        (lambda d: d, "holds no .npy file"),
    ],
)
def test_a_folder_that_cannot_serve_is_a_clear_error(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        build_encoder("x", spec(make(tmp_path)))


def test_precomputed_text_has_no_empty_transcription_flags(release_features):
    folder, _ = release_features
    manifest = _manifest(["a_utt"])
    features, _ = extract_shard("x", spec(folder, "text"), manifest, None, None)
    assert feature_flags(spec(folder, "text"), manifest, features).num_rows == 0


def test_read_vector_keeps_float64_values_as_float32(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(4, dtype=np.float64))
    assert read_vector(tmp_path / "x.npy").dtype == np.float32
    with pytest.raises(FeatureFileError, match="expected 3"):
        read_vector(tmp_path / "x.npy", 3)
