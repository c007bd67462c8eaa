"""Benchmark: the encoder-side reference options (docs/reference.md) on tiny random models.

No real DINOv2 / ChatGLM2 / Baichuan weights are reachable offline, and the demo's
encoders are not transformers models, so no WAF is measured here. Instead, on tiny
models built from a ``transformers`` config (random weights):

* text, under left padding with ChatGLM2- and Baichuan-like tokenizers (tests/
  llm_tokenizers.py), on a rotary (Llama) and an absolute-position (GPT-2) decoder: the
  largest |batched - one at a time| over the texts, with position ids from the attention
  mask (merflow) and without them (what left padding gives otherwise); the cosine between
  the vector with the prefix tokens left out and with them averaged in; CPU seconds of
  batched vs one at a time (MERTools encodes one text at a time);
* DINOv2 at its real input size (224 px, patch 14: 257 tokens), small width: CPU seconds
  per crop of ``pooling: pooler`` vs ``token_sum``, and of a clip of 20 crops (5 s at 4
  fps) and 200 crops with ``image_frames: 0`` (every crop) vs 64 (the reference);
* precision: the cosine between fp32 and bf16 text vectors on the CPU (a GPU's bf16 is not
  measured: no GPU here).

    .venv/bin/python bench/hf_reference_options.py [--texts 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "tests"))

import transformers
from llm_tokenizers import (
    CHARS,
    BaichuanLikeTokenizer,
    ChatGLM2LikeTokenizer,
)

from merlib.features.base import build_encoder
from merlib.features.hf_reference import POOLINGS
from merlib.features.hf_visual import crop_weights


def cpu_seconds(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b)))


def build(root: Path) -> dict[str, str]:
    t = transformers
    torch.manual_seed(0)
    small = dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128)
    llama = t.LlamaConfig(vocab_size=64, num_key_value_heads=4, pad_token_id=0, **small)
    gpt2 = t.GPT2Config(vocab_size=64, n_embd=64, n_layer=4, n_head=4, n_positions=256)
    dino = t.Dinov2Config(**small, image_size=224, patch_size=14)
    out = {}
    for name, model in (
        ("llama", t.LlamaForCausalLM(llama)),
        ("gpt2", t.GPT2LMHeadModel(gpt2)),
        ("dinov2", t.Dinov2Model(dino)),
    ):
        model.save_pretrained(root / name)
        out[name] = str(root / name)
    t.BitImageProcessorPil(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
    ).save_pretrained(root / "dinov2")
    return out


def encoder(path: str, modality: str, threads: int, **options):
    spec = {"modality": modality, "backend": "transformers", "model": path}
    return build_encoder("bench", {**spec, "options": {"device": "cpu", **options}}, threads)


def texts(n: int, rng) -> list[str]:
    return ["".join(rng.choice(CHARS, size=int(rng.integers(2, 40)))) for _ in range(n)]


def text_encoder(path: str, tokenizer, threads: int, **options):
    """A text encoder on ``tokenizer`` (the real ones are remote code on the hub)."""
    transformers.AutoTokenizer.from_pretrained = staticmethod(lambda *a, **k: tokenizer)
    return encoder(path, "text", threads, **options)


def text_row(enc, items: list[str]) -> str:
    batched, t_batched = cpu_seconds(lambda: enc.encode(items))
    solo, t_solo = cpu_seconds(lambda: np.concatenate([enc.encode([x]) for x in items]))
    enc.takes_positions = False  # positions from the left edge of the padded batch
    no_pos = enc.encode(items)
    enc.takes_positions, prefix = True, enc.n_prefix
    enc.n_prefix = 0  # the prefix tokens averaged in
    with_prefix = enc.encode(items)
    enc.n_prefix = prefix
    cos = np.mean([cosine(a, b) for a, b in zip(solo, with_prefix, strict=True)])
    return (
        f"{np.abs(batched - solo).max():.2e} | {np.abs(no_pos - solo).max():.2e} | "
        f"{cos:.4f} | {t_batched:.2f} | {t_solo:.2f}"
    )


def bench_text(models, n_texts: int, threads: int) -> None:
    rng = np.random.default_rng(0)
    items = texts(n_texts, rng)
    print(f"text: {n_texts} texts of 2..39 characters, batch_size 16, left padding")
    header = "tokenizer | model | max abs batched-solo | same without position ids"
    print(header + " | cos(prefix out, in) | CPU s batched | CPU s one at a time")
    for cls in (ChatGLM2LikeTokenizer, BaichuanLikeTokenizer):
        for kind in ("llama", "gpt2"):
            enc = text_encoder(models[kind], cls(), threads, batch_size=16)
            print(f"{cls.__name__} | {kind} | {text_row(enc, items)}")
    tok = BaichuanLikeTokenizer()
    fp32 = text_encoder(models["llama"], tok, threads, dtype="float32").encode(items)
    bf16 = text_encoder(models["llama"], tok, threads, dtype="bfloat16").encode(items)
    cos = [cosine(a, b) for a, b in zip(fp32, bf16, strict=True)]
    print(f"precision (llama, CPU): cos(fp32, bf16) mean {np.mean(cos):.5f}, min {min(cos):.5f}")


def bench_visual(models, threads: int) -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (112, 112, 3), dtype=np.uint8) for _ in range(200)]
    print("visual: DINOv2 224 px (257 tokens), width 64, 4 layers; random 112x112 crops")
    encoders = {p: encoder(models["dinov2"], "visual", threads, pooling=p) for p in POOLINGS}
    best = dict.fromkeys(POOLINGS, np.inf)
    for _ in range(3):  # alternated, best of 3: the machine is shared
        for pooling, enc in encoders.items():
            _, t = cpu_seconds(lambda e=enc: e.encode([crops[:64]]))
            best[pooling] = min(best[pooling], t)
    for pooling, t in best.items():
        print(f"pooling {pooling}: {t / 64 * 1000:.1f} CPU ms per crop (64 crops, best of 3)")
    for frames in (0, 64):
        enc = encoder(models["dinov2"], "visual", threads, image_frames=frames)
        for n in (20, 200):
            _, t = cpu_seconds(lambda e=enc, n=n: e.encode([crops[:n]]))
            encoded = int((crop_weights(n, frames) > 0).sum())
            print(f"image_frames {frames}, clip of {n} crops: {encoded} encoded, {t:.2f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        models = build(Path(tmp))
        bench_text(models, args.texts, args.threads)
        bench_visual(models, args.threads)


if __name__ == "__main__":
    main()
