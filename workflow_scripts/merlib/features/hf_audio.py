"""``transformers`` audio encoders: speech models (HuBERT, wav2vec 2.0, WavLM, ...) and Whisper.

Speech models run on ``chunk_seconds`` chunks, Whisper's encoder on 30 s windows; both sum
the last ``layers`` hidden layers and average them over the frames that hold audio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .audio_chunks import WHISPER_WINDOW_SECONDS, ChunkPool, whisper_audio_frames
from .base import SAMPLE_RATE
from .hf_common import TransformersEncoder, TransformersOptions, length_mask, sum_last_layers


class SpeechEncoder(TransformersEncoder):
    """HuBERT / wav2vec 2.0 / WavLM / data2vec: chunked, last layers summed, time-averaged."""

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

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        pool = ChunkPool(items, self.chunk_samples, self.dim)
        chunks = pool.chunks
        # A chunk shorter than one frame's receptive field (the tail of a clip just over
        # 10 s, a clip of a few ms) has no frame: it is left out (the convolutions would
        # fail on it), and a clip made only of such chunks gets NaN, hence a reject.
        frames = self.model._get_feat_extract_output_lengths(
            torch.tensor([len(c) for c in chunks])
        ).tolist()
        usable = [j for j in range(len(chunks)) if frames[j] > 0]
        # Longest first so padding stays small; without masking only equal lengths batch.
        order = sorted(usable, key=lambda j: -len(chunks[j]))
        groups: list[list[int]] = []
        for j in order:
            last = groups[-1] if groups else None
            fits = last is not None and len(last) < self.opts.batch_size
            if fits and (self.can_mask or len(chunks[last[0]]) == len(chunks[j])):
                last.append(j)
            else:
                groups.append([j])
        for group in groups:
            states, frames = self._forward([chunks[j] for j in group])
            summed = (states * frames.unsqueeze(-1)).sum(1).double().cpu().numpy()
            n = frames.sum(1).double().cpu().numpy()
            for row, j in enumerate(group):
                pool.add(j, summed[row], n[row])
        return pool.means()


class WhisperEncoder(TransformersEncoder):
    """Whisper's encoder: 30 s windows, last layers summed, averaged over frames of audio."""

    modality = "audio"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, WhisperFeatureExtractor

        try:
            self.extractor = WhisperFeatureExtractor.from_pretrained(model)
        except OSError:
            self.extractor = WhisperFeatureExtractor(feature_size=self.config.num_mel_bins)
        self.encoder = self._load(AutoModel).get_encoder()
        self.dim = int(self.config.d_model)
        self.window = WHISPER_WINDOW_SECONDS * SAMPLE_RATE

    def _encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        pool = ChunkPool(items, self.window, self.dim)
        for batch in self._batches(len(pool.chunks)):
            part = [pool.chunks[j] for j in batch]
            # Every window is padded to 30 s by Whisper itself: batching changes nothing.
            feats = self.extractor(part, sampling_rate=SAMPLE_RATE, return_tensors="pt")
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


__all__ = ["SpeechEncoder", "WhisperEncoder"]
