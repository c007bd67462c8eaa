"""Tokenizers that reproduce ChatGLM2's and Baichuan's quirks, for tiny test models (their
real tokenizers are remote code on the model hub): character-level over :data:`CHARS`."""

from __future__ import annotations

import transformers

TEXTS = ["我今天很开心", "你好，很高兴见到你", "我不想去。", "开心"]
CHARS = sorted(set("".join(TEXTS)))


class CharTokenizer(transformers.PreTrainedTokenizer):
    """One token per character; ``prefix`` tokens put before every text, not marked special
    (ChatGLM2's and Baichuan's own tokenizers do not mark them either)."""

    prefix: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        self.vocab = ["<pad>", "<unk>", "<s>", "</s>", "[gMASK]", "sop", *CHARS]
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        super().__init__(unk_token="<unk>", eos_token="</s>", padding_side="left", **kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.ids)

    def _tokenize(self, text, **kwargs):
        return list(text)

    def _convert_token_to_id(self, token):
        return self.ids.get(token, 1)

    def _convert_id_to_token(self, index):
        return self.vocab[index]

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        return [self.ids[t] for t in self.prefix] + token_ids_0 + (token_ids_1 or [])


class ChatGLM2LikeTokenizer(CharTokenizer):
    """ChatGLM2's quirks: ``[gMASK]``, ``sop`` before the text; padding asserted left."""

    prefix = ("[gMASK]", "sop")

    def __init__(self):
        super().__init__(pad_token="<pad>")

    def _pad(self, encoded_inputs, *args, **kwargs):
        assert self.padding_side == "left"
        return super()._pad(encoded_inputs, *args, **kwargs)


class BaichuanLikeTokenizer(CharTokenizer):
    """Baichuan's: one ``<s>`` before the text, no pad token (merflow pads with ``</s>``)."""

    prefix = ("<s>",)
