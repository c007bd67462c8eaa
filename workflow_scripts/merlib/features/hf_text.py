"""``transformers`` text encoder: BERT-family encoders and causal LMs, mean over tokens.

A blank transcription gives a zero vector; a text of special tokens only gives NaN (a
reject).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import is_empty_text
from .hf_common import TransformersEncoder, TransformersOptions, masked_mean, sum_last_layers


class TextEncoder(TransformersEncoder):
    """BERT-family encoders and causal LMs: last layers summed, mean over the text's tokens."""

    modality = "text"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(
            model, trust_remote_code=opts.trust_remote_code
        )
        # Right padding: with a causal mask, a token never sees the padding after it.
        self.tokenizer.padding_side = "right"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model = self._load(AutoModel)
        self.dim = int(self.config.hidden_size)
        self.seq_first = getattr(self.config, "model_type", "") == "chatglm"

    def _encode(self, items: Sequence[str | None]) -> np.ndarray:
        import torch

        out = np.zeros((len(items), self.dim), np.float32)
        keep = [i for i, t in enumerate(items) if not is_empty_text(t)]
        for batch in self._batches(len(keep)):
            texts = [str(items[keep[k]]).strip() for k in batch]
            enc = self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.opts.max_tokens,
                return_special_tokens_mask=True,
                return_tensors="pt",
            )
            special = enc.pop("special_tokens_mask").bool()
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                hidden = self.model(**enc, output_hidden_states=True).hidden_states
            if self.seq_first:  # ChatGLM's own code returns (tokens, batch, dim)
                hidden = [h.transpose(0, 1) for h in hidden]
            states = sum_last_layers(hidden, self.opts.layers)
            mask = enc["attention_mask"].bool() & ~special.to(self.device)
            pooled = masked_mean(states, mask).cpu().numpy()
            # A text of special tokens only has no token to average: NaN, rejected.
            pooled[~mask.any(1).cpu().numpy()] = np.nan
            out[[keep[k] for k in batch]] = pooled
        return out


__all__ = ["TextEncoder"]
