"""``transformers`` text encoder: BERT-family encoders and causal LMs, mean over tokens.

The padding side is the tokenizer's own (ChatGLM2's tokenizer asserts left padding); under
left padding each row's position ids count from its first real token, so a text's vector
does not depend on its batch neighbours. The tokens the tokenizer adds around a text
(``[CLS]``/``[SEP]``, ChatGLM2's ``[gMASK]``/``sop`` prefix, Baichuan's ``<s>``) are left
out of the mean: those found by :func:`added_tokens` (which remote-code tokenizers do not
mark special, nor always count in their special-tokens mask), and those the tokenizer
marks special. A blank transcription gives a zero vector; a
text of special tokens only gives NaN (a reject).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence

import numpy as np

from .base import is_empty_text
from .hf_common import TransformersEncoder, TransformersOptions, masked_mean, sum_last_layers

log = logging.getLogger(__name__)

# A text to find which tokens a tokenizer adds around any text (MERTools probes the same).
PROBE_TEXT = "今天天气真好"


class TextEncoder(TransformersEncoder):
    """BERT-family encoders and causal LMs: last layers summed, mean over the text's tokens."""

    modality = "text"

    def __init__(self, model: str, opts: TransformersOptions, threads: int | None = None):
        super().__init__(model, opts, threads)
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(
            model, trust_remote_code=opts.trust_remote_code
        )
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.n_prefix, self.n_suffix = added_tokens(self.tokenizer, model)
        self.model = self._load(AutoModel)
        self.dim = int(self.config.hidden_size)
        self.seq_first = getattr(self.config, "model_type", "") == "chatglm"
        self.left_padded = self.tokenizer.padding_side == "left"
        self.takes_positions = "position_ids" in inspect.signature(self.model.forward).parameters

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
            attention = enc["attention_mask"].bool()
            if self.left_padded and self.takes_positions and "position_ids" not in enc:
                enc["position_ids"] = positions_from_mask(attention)
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                hidden = self.model(**enc, output_hidden_states=True).hidden_states
            if self.seq_first:  # ChatGLM's own code returns (tokens, batch, dim)
                hidden = [h.transpose(0, 1) for h in hidden]
            states = sum_last_layers(hidden, self.opts.layers)
            mask = content_mask(attention, self.n_prefix, self.n_suffix)
            if special.shape == mask.shape:  # a tokenizer that does not pad it: unusable
                mask &= ~special
            mask = mask.to(states.device)
            # padding rows can be NaN in some attention kernels: zero them before the mean
            states = torch.where(mask.unsqueeze(-1), states, torch.zeros((), dtype=states.dtype))
            pooled = masked_mean(states, mask).cpu().numpy()
            # A text of special tokens only has no token to average: NaN, rejected.
            pooled[~mask.any(1).cpu().numpy()] = np.nan
            out[[keep[k] for k in batch]] = pooled
        return out


def added_tokens(tokenizer, model: str = "") -> tuple[int, int]:
    """How many tokens the tokenizer puts before and after a text's own: :data:`PROBE_TEXT`
    tokenized with and without special tokens, the latter found inside the former. (0, 0)
    with a warning when it is not found there (the special-tokens mask alone then applies).
    """
    bare = list(tokenizer(PROBE_TEXT, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(PROBE_TEXT, add_special_tokens=True)["input_ids"])
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return start, len(full) - start - len(bare)
    log.warning(
        "transformers: %s: the tokens added around a text could not be found (%s vs %s); "
        "only those the tokenizer marks special are left out of the mean",
        model,
        full,
        bare,
    )
    return 0, 0


def _rank(attention):
    """Index of each real token among its row's real tokens (padding: -1 before the first)."""
    return attention.long().cumsum(-1) - 1


def positions_from_mask(attention):
    """Position ids counted from each row's first real token (0 on the padding before it)."""
    return _rank(attention).clamp(min=0)


def content_mask(attention, n_prefix: int, n_suffix: int):
    """``attention`` without each row's first ``n_prefix`` and last ``n_suffix`` real tokens."""
    rank = _rank(attention)
    count = attention.long().sum(-1, keepdim=True)
    return attention & (rank >= n_prefix) & (rank < count - n_suffix)


__all__ = ["PROBE_TEXT", "TextEncoder", "added_tokens", "content_mask", "positions_from_mask"]
