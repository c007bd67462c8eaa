"""A transcript for every clip: the release's transcription where one exists, ASR else.

The MER2024 release transcribes only its labelled clips; the pool to predict comes with no
text. :func:`transcribe_shard` makes the TRANSCRIPTS table of one shard: a clip keeps its
release transcription (``source`` ``release``) when its split is in
``TranscriptParams.release_splits`` and the text is not blank; otherwise, with ASR on, its
audio is recognised (``asr``, with the mean log-probability and the model); a clip whose
audio is missing, undecodable or silent, or in which ASR finds no speech, gets an empty
text and ``source`` ``none`` with the reason (never a crash of the shard; its text vector
is then the zero vector, flagged ``empty_transcription`` by the features stage).

:func:`with_transcripts` gives a manifest whose ``transcription`` column is the
transcripts' text: what text features read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import MediaError
from .features.base import is_empty_text
from .features.extraction import decode_pcm
from .progress import Progress
from .schemas import TRANSCRIPTS, table_from_rows
from .whisper import OFFLINE_NAMES, TEMPERATURE_FALLBACKS, DecodeOptions, Transcript

log = logging.getLogger(__name__)

RELEASE, ASR, NONE = "release", "asr", "none"
SPLITS = ("labeled", "unlabeled")
BACKENDS = ("faster-whisper", "transformers")
# The initial prompt ``auto`` gives Mandarin (language zh): a simplified-Chinese sentence
# with punctuation, which steers Whisper to simplified characters and punctuated text;
# other languages get none. Not the default: it made Whisper-base's CER worse on real
# Mandarin (bench/asr_mandarin.py), and OpenCC gives simplified characters anyway.
ZH_PROMPT = "以下是普通话的句子，使用简体中文，带标点符号。"
AUTO = "auto"


@dataclass(frozen=True)
class TranscriptParams:
    """The ``transcripts`` config section (see schemas/config.schema.yaml)."""

    asr: bool = True
    model: str = "base"
    backend: str = "faster-whisper"
    language: str | None = "zh"
    release_splits: Sequence[str] = field(default_factory=lambda: list(SPLITS))
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 1
    vad: bool = True
    initial_prompt: str | None = None
    temperature_fallback: str = "none"
    seed: int = 0
    simplified: bool = True
    silence_dbfs: float = -60.0
    # labelled clips with a release text also recognised, to measure ASR (rule check_asr);
    # not read by transcribe_clips, so a change reruns the check only
    asr_check: int = 200

    def __post_init__(self):
        bad = [s for s in self.release_splits if s not in SPLITS]
        if bad:
            raise ValueError(
                f"transcripts.release_splits names {bad}: the splits are {list(SPLITS)}"
            )
        if self.backend not in BACKENDS:
            raise ValueError(f"transcripts.backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.asr_check < 0:
            raise ValueError(f"transcripts.asr_check must be >= 0, got {self.asr_check}")
        self.decode_options()  # beam_size, temperature_fallback: checked there

    def decode_options(self) -> DecodeOptions:
        """How the ASR decodes, from these settings."""
        prompt = self.initial_prompt
        if prompt == AUTO:
            prompt = ZH_PROMPT if (self.language or "").startswith("zh") else None
        return DecodeOptions(
            beam_size=self.beam_size,
            vad=self.vad,
            initial_prompt=prompt,
            temperature_fallback=self.temperature_fallback,
            seed=self.seed,
            simplified=self.simplified,
        )


def make_recogniser(
    params: TranscriptParams, cache_dir: str | Path, threads: int | None
) -> Callable[[np.ndarray], Transcript]:
    """The ASR ``params`` ask for (a model load): the ``transcribe`` method of a
    :class:`merlib.whisper.Transcriber` (faster-whisper) or of a
    :class:`merlib.hf_asr.HFTranscriber` (transformers)."""
    if params.backend == "transformers":
        from .hf_asr import HFTranscriber

        model = Path(params.model).expanduser() if looks_like_path(params.model) else params.model
        return HFTranscriber(
            model,
            params.language,
            threads,
            device=params.device,
            compute_type=params.compute_type,
            options=params.decode_options(),
        ).transcribe
    from .whisper import Transcriber

    return Transcriber(
        params.model,
        cache_dir,
        params.language,
        threads or 1,
        device=params.device,
        compute_type=params.compute_type,
        options=params.decode_options(),
    ).transcribe


def looks_like_path(model: str) -> bool:
    """True for a model given as a file system path (absolute, ./, ../ or ~), which must
    then exist; hub ids (``large-v3``, ``Systran/faster-whisper-large-v3``) are not."""
    return model.startswith(("/", "./", "../", "~")) or model in (".", "..")


def check_model(model: str, backend: str = "faster-whisper") -> None:
    """Raise ValueError with a sentence a user understands when ``model`` is a path to
    nothing or to a folder that is not a model of ``backend`` (a CTranslate2 folder with
    model.bin for faster-whisper; a transformers folder with config.json)."""
    if not looks_like_path(model) or (model in OFFLINE_NAMES and backend != "transformers"):
        return
    path = Path(model).expanduser()
    if backend == "transformers":
        if not (path / "config.json").is_file():
            raise ValueError(
                f"transcripts.model {model!r} is not a transformers model folder (no "
                "config.json there). Please point it at a saved Whisper or CTC model, or "
                "give a Hugging Face id such as 'openai/whisper-large-v3' when online."
            )
        return
    if not path.exists():
        raise ValueError(
            f"transcripts.model {model!r} does not exist. Please point it at a "
            "faster-whisper (CTranslate2) model folder, or use 'base' (the offline "
            "Whisper-base) or a Whisper id such as 'large-v3' when online."
        )
    if not (path / "model.bin").is_file():
        raise ValueError(
            f"transcripts.model {model!r} holds no model.bin: it is not a faster-whisper "
            "(CTranslate2) model folder (convert one with ct2-transformers-converter)."
        )


def _dbfs(audio: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else -np.inf


def _row(name: str, text: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "text": text, "source": source, **extra}


def transcribe_shard(
    clips: Iterable[Mapping[str, Any]],
    audio: pa.Table | None,
    params: TranscriptParams,
    recognise: Callable[[np.ndarray], Transcript] | None,
    progress_every: float = 30.0,
) -> pa.Table:
    """TRANSCRIPTS of a shard's ``clips`` (dicts with ``name``, ``split`` and the release
    ``transcription``, possibly null), in their order.

    ``audio`` is the shard's AUDIO table and ``recognise`` the ASR (e.g.
    :meth:`merlib.whisper.Transcriber.transcribe`); both may be None when ASR is off. An
    exception raised by ``recognise`` on one clip is recorded as that clip's reason.
    """
    clips = list(clips)
    if params.asr and (audio is None or recognise is None):
        raise ValueError("transcripts: ASR is on, so the shard's audio and an ASR are needed")
    index = {}
    if audio is not None:
        index = {n: i for i, n in enumerate(audio.column("name").to_pylist())}
    rows = []
    progress = Progress("transcription", len(clips), every=progress_every)
    for clip in clips:
        name, release = clip["name"], clip.get("transcription")
        if clip["split"] in params.release_splits and not is_empty_text(release):
            rows.append(_row(name, release.strip(), RELEASE, language=params.language))
        elif not params.asr:
            rows.append(_row(name, "", NONE, reason="no release transcription, ASR off"))
        else:
            rows.append(recognise_clip(name, audio, index.get(name), params, recognise))
        progress.update()
    return table_from_rows(rows, TRANSCRIPTS)


def recognise_clip(name, audio, row, params, recognise) -> dict[str, Any]:
    """The TRANSCRIPTS row of clip ``name`` whose audio is row ``row`` of the AUDIO table
    ``audio`` (None: no audio track): ASR text, or an empty text and the reason."""
    if row is None:
        return _row(name, "", NONE, reason="no audio track (no row in the shard's audio table)")
    try:
        wave = decode_pcm(
            name, audio.column("pcm")[row].as_py(), audio.column("sample_rate")[row].as_py()
        )
    except MediaError as exc:
        return _row(name, "", NONE, reason=f"undecodable audio: {exc}")
    level = _dbfs(wave)
    if level < params.silence_dbfs:
        return _row(
            name, "", NONE, reason=f"silent audio ({level:.1f} dBFS < {params.silence_dbfs})"
        )
    try:
        result = recognise(wave)
    except Exception as exc:  # one clip's failure is its row's reason, not the shard's crash
        log.warning("clip %s: ASR failed: %s", name, exc)
        return _row(name, "", NONE, model=params.model, reason=f"ASR failed: {exc}")
    if is_empty_text(result.text):
        return _row(
            name,
            "",
            NONE,
            language=result.language,
            model=params.model,
            reason=getattr(result, "reason", None) or "no speech recognised",
        )
    return _row(
        name,
        result.text,
        ASR,
        language=result.language,
        avg_logprob=result.avg_logprob,
        model=params.model,
    )


def built_on_first_use(factory: Callable[[], Callable[[np.ndarray], Transcript]]):
    """An ASR callable that builds the real one (``factory()``, a model load) only when a
    clip first needs it: a shard whose clips all have release text loads no model."""
    built: list[Callable[[np.ndarray], Transcript]] = []

    def recognise(audio: np.ndarray) -> Transcript:
        if not built:
            built.append(factory())
        return built[0](audio)

    return recognise


def with_transcripts(manifest: pa.Table, transcripts: pa.Table, where: str = "") -> pa.Table:
    """``manifest`` with its ``transcription`` column replaced by the transcripts' text.

    Raises ValueError naming ``where`` when a manifest clip has no transcript."""
    texts = dict(
        zip(
            transcripts.column("name").to_pylist(),
            transcripts.column("text").to_pylist(),
            strict=True,
        )
    )
    names = manifest.column("name").to_pylist()
    missing = [n for n in names if n not in texts]
    if missing:
        raise ValueError(
            f"{where or 'transcripts'}: no transcript for {len(missing)} clip(s) of the "
            f"manifest, e.g. {missing[:3]}; rerun rule transcribe_clips"
        )
    column = pa.array([texts[n] for n in names], type=pa.string())
    i = manifest.schema.get_field_index("transcription")
    return manifest.set_column(i, manifest.schema.field(i), column)


def source_counts(table: pa.Table) -> dict[str, int]:
    counts: dict[str, int] = {}
    for source in table.column("source").to_pylist():
        counts[source] = counts.get(source, 0) + 1
    return counts


__all__ = [
    "ASR",
    "NONE",
    "RELEASE",
    "BACKENDS",
    "TEMPERATURE_FALLBACKS",
    "TranscriptParams",
    "ZH_PROMPT",
    "built_on_first_use",
    "check_model",
    "make_recogniser",
    "recognise_clip",
    "looks_like_path",
    "source_counts",
    "transcribe_shard",
    "with_transcripts",
]
