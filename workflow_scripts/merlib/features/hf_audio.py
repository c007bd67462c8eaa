"""``transformers`` audio encoders: speech models (HuBERT, wav2vec 2.0, WavLM, ...) and Whisper.

Speech models run on ``chunk_seconds`` chunks, Whisper's encoder on 30 s windows; both sum
the last ``layers`` hidden layers and average them over the frames that hold audio.

Two options (their values: merflow's default first, then MERTools'; a feature's own
option wins, else ``options.protocol: reference`` picks MERTools' for the model's type,
:mod:`merlib.features.hf_reference`, ``docs/reference.md``):

- ``speech_chunking``: ``masked``, each chunk normalised by the model's feature extractor
  on its own, the last chunk shorter and its padding frames left out of the mean;
  ``padded``, MERTools' ``extract_audio_huggingface.py``: the whole clip normalised once,
  a clip over ``chunk_seconds`` zero-padded to a whole number of chunks, every frame of
  every chunk (those of the padding too) in the mean, no attention mask.
- ``whisper_states``: ``encoder``, as above; ``decoder``, MERTools': the clip's first
  30 s window (the feature extractor truncates) through the whole model with the
  decoder-start token fed twice, the decoder's last hidden state averaged over those two
  positions (``layers`` does not apply).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .audio_chunks import WHISPER_WINDOW_SECONDS, ChunkPool, padded_chunks, whisper_audio_frames
from .base import SAMPLE_RATE
from .hf_common import TransformersEncoder, TransformersOptions, length_mask, sum_last_layers
from .hf_reference import speech_chunking, whisper_states

# MERTools feeds Whisper's decoder this many copies of the decoder-start token.
DECODER_START_TOKENS = 2


class SpeechEncoder(TransformersEncoder):
    """HuBERT / wav2vec 2.0 / WavLM / data2vec: chunked, last layers summed, time-averaged
    (``speech_chunking`` says how chunks are normalised and padded)."""

    modality = "audio"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoFeatureExtractor, AutoModel, Wav2Vec2FeatureExtractor

        # Group-norm feature encoders (wav2vec 2.0 / HuBERT base) cannot mask padding.
        self.can_mask = getattr(self.config, "feat_extract_norm", "layer") == "layer"
        try:
            self.extractor = AutoFeatureExtractor.from_pretrained(
                model, trust_remote_code=opts.trust_remote_code
            )
        except OSError:  # no preprocessor_config.json: the checkpoint's usual defaults
            self.extractor = Wav2Vec2FeatureExtractor(
                sampling_rate=SAMPLE_RATE, do_normalize=self.can_mask
            )
        self.model = self._load(AutoModel)
        self.dim = int(self.config.hidden_size)
        self.chunk_samples = int(round(opts.chunk_seconds * SAMPLE_RATE))
        self.speech_chunking = speech_chunking(opts, str(self.config.model_type))

    def _forward(self, chunks: list[np.ndarray]):
        import torch

        inputs = self.extractor(
            chunks,
            sampling_rate=SAMPLE_RATE,
            padding=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        values = inputs["input_values"].to(self.device, self.torch_dtype)
        sample_mask = inputs["attention_mask"].to(self.device)
        kwargs = {"attention_mask": sample_mask} if self.can_mask else {}
        with torch.inference_mode():
            out = self.model(values, output_hidden_states=True, **kwargs)
        states = sum_last_layers(out.hidden_states, self.opts.layers)
        lengths = self.model._get_feat_extract_output_lengths(sample_mask.sum(-1))
        return states, length_mask(lengths, states.shape[1])

    def _groups(self, chunks: list[np.ndarray], mixed: bool) -> list[list[int]]:
        """Batches of chunk indices, longest first so padding stays small; ``mixed``
        false: only chunks of equal length share a batch (no padding at all)."""
        import torch

        # A chunk shorter than one frame's receptive field (the tail of a clip just over
        # 10 s, a clip of a few ms) has no frame: it is left out (the convolutions would
        # fail on it), and a clip made only of such chunks gets NaN, hence a reject.
        frames = self.model._get_feat_extract_output_lengths(
            torch.tensor([len(c) for c in chunks])
        ).tolist()
        usable = [j for j in range(len(chunks)) if frames[j] > 0]
        order = sorted(usable, key=lambda j: -len(chunks[j]))
        groups: list[list[int]] = []
        for j in order:
            last = groups[-1] if groups else None
            fits = last is not None and len(last) < self.opts.batch_size
            if fits and (mixed or len(chunks[last[0]]) == len(chunks[j])):
                last.append(j)
            else:
                groups.append([j])
        return groups

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        if self.speech_chunking == "padded":
            return self._encode_padded(items)
        pool = ChunkPool(items, self.chunk_samples, self.dim)
        # Without masking only equal lengths batch.
        for group in self._groups(pool.chunks, mixed=self.can_mask):
            states, frames = self._forward([pool.chunks[j] for j in group])
            summed = (states * frames.unsqueeze(-1)).sum(1).double().cpu().numpy()
            n = frames.sum(1).double().cpu().numpy()
            for row, j in enumerate(group):
                pool.add(j, summed[row], n[row])
        return pool.means()

    def normalised(self, signal: np.ndarray) -> np.ndarray:
        """The whole clip through the model's feature extractor once (``padded``)."""
        values = self.extractor(signal, sampling_rate=SAMPLE_RATE, return_tensors="np")
        return np.asarray(values["input_values"][0], np.float32)

    def _encode_padded(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        signals = [self.normalised(np.asarray(s, np.float32)) for s in items]
        pool = ChunkPool(signals, self.chunk_samples, self.dim, cut=padded_chunks)
        # Every chunk of a long clip has chunk_samples samples: batches of equal lengths
        # need no padding and no mask, as in the reference's one batch per clip.
        for group in self._groups(pool.chunks, mixed=False):
            values = torch.from_numpy(np.stack([pool.chunks[j] for j in group]))
            with torch.inference_mode():
                out = self.model(
                    values.to(self.device, self.torch_dtype), output_hidden_states=True
                )
            states = sum_last_layers(out.hidden_states, self.opts.layers)
            summed = states.sum(1).double().cpu().numpy()
            for row, j in enumerate(group):
                pool.add(j, summed[row], states.shape[1])
        return pool.means()


class WhisperEncoder(TransformersEncoder):
    """Whisper's encoder: 30 s windows, last layers summed, averaged over frames of audio;
    with ``whisper_states: decoder``, MERTools' decoder states (module docstring)."""

    modality = "audio"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, WhisperFeatureExtractor

        try:
            self.extractor = WhisperFeatureExtractor.from_pretrained(model)
        except OSError:
            self.extractor = WhisperFeatureExtractor(feature_size=self.config.num_mel_bins)
        model = self._load(AutoModel)
        self.encoder = model.get_encoder()
        self.whisper_states = whisper_states(opts, str(self.config.model_type))
        # The decoder is kept only when its states are asked for.
        self.model = model if self.whisper_states == "decoder" else None
        self.dim = int(self.config.d_model)
        self.window = WHISPER_WINDOW_SECONDS * SAMPLE_RATE

    def log_mel(self, part: Sequence[np.ndarray]):
        """Whisper's log-mel features of ``part``, computed on the encoder's device
        (transformers' torch STFT: the same code as on the CPU, within float rounding)."""
        return self.extractor(
            list(part), sampling_rate=SAMPLE_RATE, return_tensors="pt", device=self.device
        )

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        if self.model is not None:
            return self._encode_decoder(items)
        pool = ChunkPool(items, self.window, self.dim)
        for batch in self._batches(len(pool.chunks)):
            part = [pool.chunks[j] for j in batch]
            # Every window is padded to 30 s by Whisper itself: batching changes nothing.
            feats = self.log_mel(part)
            x = feats["input_features"].to(self.device, self.torch_dtype)
            with torch.inference_mode():
                out = self.encoder(x, output_hidden_states=True)
            states = sum_last_layers(out.hidden_states, self.opts.layers)
            n_frames = [whisper_audio_frames(c, states.shape[1]) for c in part]
            frames = length_mask(torch.tensor(n_frames, device=states.device), states.shape[1])
            summed = (states * frames.unsqueeze(-1)).sum(1).double().cpu().numpy()
            for row, j in enumerate(batch):
                pool.add(j, summed[row], n_frames[row])
        return pool.means()

    def decoder_input_ids(self, n: int):
        """``(n, 2)``: the decoder-start token, twice per clip, as MERTools feeds it."""
        import torch

        start = self.config.decoder_start_token_id
        if start is None:
            raise ValueError(f"{self.model_id}: the config has no decoder_start_token_id")
        return torch.full((n, DECODER_START_TOKENS), int(start), device=self.device)

    def _encode_decoder(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        out = np.full((len(items), self.dim), np.nan, np.float32)
        # A clip without a sample holds no audio: NaN, hence a reject (not a vector of
        # padding). Longer than 30 s: its first window only, as the reference's extractor.
        kept = [i for i, s in enumerate(items) if len(s)]
        for batch in self._batches(len(kept)):
            rows = [kept[j] for j in batch]
            part = [np.asarray(items[i], np.float32)[: self.window] for i in rows]
            feats = self.log_mel(part)
            x = feats["input_features"].to(self.device, self.torch_dtype)
            with torch.inference_mode():
                states = self.model(x, decoder_input_ids=self.decoder_input_ids(len(rows)))
            out[rows] = states.last_hidden_state.float().mean(1).cpu().numpy()
        return out


__all__ = [
    "DECODER_START_TOKENS",
    "SpeechEncoder",
    "WhisperEncoder",
]
