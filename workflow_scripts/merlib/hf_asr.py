"""ASR through ``transformers`` (``transcripts.backend: transformers``), on CPU or GPU.

Runs the two families of speech recognisers the Hugging Face hub has most of:

- **Whisper-family** sequence-to-sequence models (``model_type`` ``whisper``, e.g. a
  Chinese fine-tuned Whisper large): ``generate`` with the language and task forced when
  the model's generation config knows them, beam search of ``beam_size``, the initial
  prompt as ``prompt_ids``, and Whisper's temperature fallback (sampling seeded with
  ``seed`` before every clip) unless ``temperature_fallback: off``;
- **CTC** models (``AutoModelForCTC``: wav2vec 2.0, HuBERT, Conformer fine-tuned with a
  character vocabulary): greedy argmax decoding.

Either way Silero VAD (the copy inside faster-whisper) can keep only the speech
(``vad``), and the text goes through :func:`merlib.whisper.finish_text` (simplified
characters for Chinese, repeated-phrase loops cut), as with faster-whisper.
``avg_logprob`` is the mean log-probability of the decoded tokens (Whisper: teacher-forced
over the generated tokens; CTC: of the best label per non-blank frame).
"""

from __future__ import annotations

import os

import numpy as np

from .whisper import DecodeOptions, Transcript, finish_text

SR = 16000
WHISPER_SECONDS = 30  # one Whisper window


def speech_only(audio: np.ndarray) -> np.ndarray:
    """The speech of ``audio`` (16 kHz float32) joined end to end, as Silero VAD finds it
    with faster-whisper's default settings; empty when it finds none."""
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions())
    if not chunks:
        return audio[:0]
    pieces, _ = collect_chunks(audio, chunks)
    return np.concatenate(pieces) if pieces else audio[:0]


def resolve_compute_type(compute_type: str, device: str) -> str:
    """The torch dtype name for ``transcripts.compute_type`` under transformers: ``int8``
    (faster-whisper's default) and ``auto`` mean fp16 on a GPU and fp32 on the CPU."""
    if compute_type in ("int8", "auto", "default"):
        return "auto"
    if compute_type not in ("float32", "float16", "bfloat16"):
        raise ValueError(
            "transcripts.compute_type for backend transformers must be one of int8/auto "
            f"(fp16 on a GPU, fp32 on CPU), float32, float16, bfloat16; got {compute_type!r}"
        )
    return compute_type


class HFTranscriber:
    """Speech to text with a ``transformers`` model (a local folder or a hub id)."""

    def __init__(
        self,
        model: str | os.PathLike,
        language: str | None,
        threads: int | None = None,
        device: str = "cpu",
        compute_type: str = "auto",
        options: DecodeOptions | None = None,
    ):
        import torch
        from transformers import AutoConfig, AutoModelForCTC, AutoProcessor

        from .features.hf_common import resolve_device, resolve_dtype

        if threads:
            torch.set_num_threads(int(threads))
        self.language = language
        self.options = options or DecodeOptions()
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(resolve_compute_type(compute_type, self.device), self.device)
        self.config = AutoConfig.from_pretrained(model)
        self.processor = AutoProcessor.from_pretrained(model)
        self.is_whisper = self.config.model_type == "whisper"
        if self.is_whisper:
            from transformers import WhisperForConditionalGeneration as loader
        elif self.config.architectures and any(
            a.endswith("ForCTC") for a in self.config.architectures
        ):
            loader = AutoModelForCTC
        else:
            raise ValueError(
                f"transcripts.model {str(model)!r}: model type {self.config.model_type!r} "
                f"({self.config.architectures}) is neither Whisper-family nor a CTC model; "
                "backend transformers runs those two"
            )
        self.model = loader.from_pretrained(model, dtype=self.dtype).to(self.device).eval()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcript of a 16 kHz mono float32 waveform in [-1, 1]."""
        import torch

        audio = np.asarray(audio, dtype=np.float32)
        if self.options.vad:
            audio = speech_only(audio)
            if not audio.size:
                return Transcript("", None, self.language, "no speech found by VAD")
        torch.manual_seed(self.options.seed)  # the fallback's sampling: same every clip
        with torch.inference_mode():
            text, logprob = self._whisper(audio) if self.is_whisper else self._ctc(audio)
        text, reason = finish_text(text, self.language, self.options)
        return Transcript(text, logprob, self.language, reason)

    def _whisper(self, audio: np.ndarray) -> tuple[str, float | None]:
        import torch

        long = len(audio) > WHISPER_SECONDS * SR
        inputs = self.processor.feature_extractor(
            audio,
            sampling_rate=SR,
            return_tensors="pt",
            return_attention_mask=True,
            **({"truncation": False, "padding": "longest"} if long else {}),
        )
        features = inputs.input_features.to(self.device, self.dtype)
        kwargs = {"num_beams": self.options.beam_size, "do_sample": False}
        if long:
            kwargs["attention_mask"] = inputs.attention_mask.to(self.device)
        generation = self.model.generation_config
        if getattr(generation, "lang_to_id", None):
            if self.language:
                kwargs["language"] = self.language
            kwargs["task"] = "transcribe"
        if self.options.temperature_fallback == "seeded":
            kwargs |= {
                "temperature": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                "compression_ratio_threshold": 2.4,
                "logprob_threshold": -1.0,
            }
        prompt = []
        if self.options.initial_prompt:
            prompt = list(self.processor.tokenizer.get_prompt_ids(self.options.initial_prompt))
            kwargs["prompt_ids"] = torch.tensor(prompt, device=self.device)
        sequences = self.model.generate(features, **kwargs)
        if not isinstance(sequences, torch.Tensor):
            sequences = sequences["sequences"]
        ids = sequences[0].tolist()
        if prompt and ids[: len(prompt)] == prompt:  # some versions return the prompt too
            ids = ids[len(prompt) :]
        special = set(self.processor.tokenizer.all_special_ids)
        text_ids = [t for t in ids if t not in special]
        text = self.processor.tokenizer.decode(text_ids, skip_special_tokens=True)
        if long or not text_ids:
            return text, None
        return text, self._mean_logprob(features, prompt, text_ids)

    def _mean_logprob(self, features, prompt: list[int], text_ids: list[int]) -> float:
        """Mean log-probability of the text tokens, teacher-forced through the model after
        the prompt and the forced start (start of transcript, language, task, no
        timestamps) the decoding began with."""
        import torch

        gen = self.model.generation_config
        start = [gen.decoder_start_token_id]
        if getattr(gen, "lang_to_id", None):
            if self.language:
                start.append(gen.lang_to_id[f"<|{self.language}|>"])
            start.append(gen.task_to_id["transcribe"])
            if getattr(gen, "no_timestamps_token_id", None) is not None:
                start.append(gen.no_timestamps_token_id)
        prefix = prompt + start
        tokens = torch.tensor([prefix + text_ids], device=self.device)
        logits = self.model(features, decoder_input_ids=tokens[:, :-1]).logits[0].float()
        logp = torch.log_softmax(logits[len(prefix) - 1 :], dim=-1)
        picked = logp.gather(1, tokens[0, len(prefix) :, None])
        return float(picked.mean())

    def _ctc(self, audio: np.ndarray) -> tuple[str, float | None]:
        import torch

        inputs = self.processor(audio, sampling_rate=SR, return_tensors="pt")
        values = inputs.input_values.to(self.device, self.dtype)
        logits = self.model(values).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        best, ids = logp.max(dim=-1)
        text = self.processor.decode(ids)
        blank = self.processor.tokenizer.pad_token_id
        spoken = ids != blank
        return text, float(best[spoken].mean()) if bool(spoken.any()) else None

    def __call__(self, pcm: np.ndarray) -> str:
        """Text of 16 kHz mono int16 speech."""
        return self.transcribe(pcm.astype(np.float32) / 32768.0).text


__all__ = ["HFTranscriber", "resolve_compute_type", "speech_only"]
