"""One-command GPU benchmark: feature extraction of the paper's encoder shapes and the
fusion search, batched vs one clip at a time, and the projected GPU-hours for MER2024.

    .venv/bin/python bench/gpu_benchmark.py            # on a GPU node, < 8 min on one GPU
    .venv/bin/python bench/gpu_benchmark.py --tiny     # tiny configs, CPU, a few seconds

Random weights in real-size configurations (nothing is downloaded):

* HuBERT-large (``HubertConfig``, 24 x 1024) on 2-12 s speech clips, through merflow's
  ``SpeechEncoder`` (``merlib.features.hf_audio``; saved to a temporary folder, loaded
  by path as a ``transformers`` feature is);
* CLIP ViT-L/14's vision tower (``CLIPVisionConfig``, 24 x 1024, 224 px, patch 14) on the
  face crops of the clips (4 per second), through merflow's ``ImageEncoder``;
* a Baichuan-13B-shaped decoder (``LlamaConfig``: 40 x 5120, 40 heads, ffn 13696,
  vocabulary 64000; bf16), built on the device and fed ``--tokens`` tokens per clip (the
  13B weights are not saved to disk and reloaded: 26 GB would take most of the budget);
* the full fusion search (50 combinations x 5 folds x 100 epochs, 5,030 clips, three
  1024-d features): ``train_stacked`` on the device for one epoch per hidden width, one
  combination per stack (what a search job does) and all combinations of a width in one
  stack, extrapolated to 100 epochs.

Prints one table (clips/s batched and one at a time, speed-up) and the GPU-hours for
115,595 clips with the three encoders at their batched rate. ``--device`` defaults to
cuda when torch sees a GPU, else cpu.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

from feature_throughput import HUBERT, face_clips, speech_clips  # noqa: E402

from merlib import search  # noqa: E402
from merlib.features.hf_audio import SpeechEncoder  # noqa: E402
from merlib.features.hf_common import TransformersOptions  # noqa: E402
from merlib.features.hf_visual import ImageEncoder  # noqa: E402
from merlib.fusion import stacked, training  # noqa: E402

MER2024_CLIPS = 115_595
SPACE = {"hidden_dim": [64, 128, 256], "dropout": [0.2, 0.3, 0.4, 0.5], "lr": [1e-3, 1e-4]}
CLIP_L14 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                num_attention_heads=16, image_size=224, patch_size=14)  # fmt: skip
BAICHUAN_13B = dict(hidden_size=5120, intermediate_size=13696, num_hidden_layers=40,
                    num_attention_heads=40, vocab_size=64000)  # fmt: skip
TINY = {
    "hubert": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=64, conv_dim=(32,) * 7),
    "clip": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                 num_attention_heads=2, image_size=56, patch_size=14),
    "llm": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, vocab_size=1000),
}  # fmt: skip


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(encode, items, batch, device) -> tuple[float, float]:
    """Clips/s of ``encode`` over ``items`` in batches of ``batch``, then one at a time."""
    encode(items[:2])  # warm-up
    rates = []
    for size in (batch, 1):
        sync(device)
        start = time.perf_counter()
        for i in range(0, len(items), size):
            encode(items[i : i + size])
        sync(device)
        rates.append(len(items) / (time.perf_counter() - start))
    return rates[0], rates[1]


def options(args) -> TransformersOptions:
    layers = 2 if args.tiny else 4  # the last 4 layers summed: the feature default
    return TransformersOptions({"device": args.device, "batch_size": args.batch, "layers": layers})


def hubert_row(args, folder: Path):
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    sizes = TINY["hubert"] if args.tiny else HUBERT["large"]
    config = HubertConfig(**sizes, feat_extract_norm="layer", do_stable_layer_norm=True)
    HubertModel(config).save_pretrained(folder / "hubert")
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(
        folder / "hubert"
    )
    opts = options(args)
    encoder = SpeechEncoder(str(folder / "hubert"), opts)
    return ("HuBERT-large (audio)", *timed(encoder.encode, speech_clips(args.clips),
                                           args.batch, args.device))  # fmt: skip


def clip_row(args, folder: Path):
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(0)
    sizes = TINY["clip"] if args.tiny else CLIP_L14
    CLIPVisionModel(CLIPVisionConfig(**sizes)).save_pretrained(folder / "clip")
    side = sizes["image_size"]
    CLIPImageProcessor(size={"shortest_edge": side}, crop_size=side).save_pretrained(
        folder / "clip"
    )
    opts = options(args)
    encoder = ImageEncoder(str(folder / "clip"), opts)
    return ("CLIP ViT-L/14 (face crops)", *timed(encoder.encode, face_clips(args.clips),
                                                 args.batch, args.device))  # fmt: skip


def llm_row(args):
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    sizes = TINY["llm"] if args.tiny else BAICHUAN_13B
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    with torch.device(args.device):
        model = LlamaModel(LlamaConfig(**sizes)).to(dtype).eval()
    g = torch.Generator().manual_seed(0)
    clips = [torch.randint(0, sizes["vocab_size"], (args.tokens,), generator=g)
             for _ in range(args.clips)]  # fmt: skip

    def encode(batch):
        ids = torch.stack(batch).to(args.device)
        with torch.inference_mode():
            return model(input_ids=ids).last_hidden_state.float().mean(1).cpu()

    # The model is freed with ``encode`` when this returns, before the fusion search.
    return ("Baichuan-13B-shaped decoder (text)", *timed(encode, clips, args.batch, args.device))


def search_rows(args):
    clips, dim, n_combos = (60, 8, 3) if args.tiny else (5030, 1024, 50)
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(clips, dim)).astype(np.float32) for _ in range(3)]
    mask = np.ones((clips, 3), dtype=bool)
    y = rng.integers(0, 6, size=clips)
    splits = training.cv_splits(y, 5, seed=2024)
    per_width = collections.Counter(
        c["hidden_dim"] for c in search.sample_combinations(SPACE, n_combos, seed=2024)
    )
    hours = {}
    for label, together in (("one combination per stack", False), ("a width per stack", True)):
        total = 0.0
        for width, n in sorted(per_width.items()):
            copies = n if together else 1
            specs = [stacked.ModelSpec(tr, va, 0.3, 1e-3, k)
                     for _ in range(copies) for k, (tr, va) in enumerate(splits)]  # fmt: skip
            start = time.perf_counter()
            stacked.train_stacked(
                arrays, mask, y, specs, hidden_dim=width, attention="raw", epochs=1,
                batch_size=32, weight_decay=1e-5, device=args.device,
            )  # fmt: skip
            total += (time.perf_counter() - start) * 100 * (1 if together else n)
        hours[label] = total / 3600
    return hours


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny configs: a CPU smoke run")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--clips", type=int, default=None, help="clips per encoder (64; tiny 4)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64, help="text tokens per clip")
    ap.add_argument("--skip-search", action="store_true")
    args = ap.parse_args(argv)
    args.clips = args.clips or (4 if args.tiny else 64)
    if args.tiny:
        args.batch, args.tokens = min(args.batch, 2), min(args.tokens, 8)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(f"device {args.device} ({name}), {args.clips} clips per encoder, batch {args.batch}"
          f"{', TINY configs' if args.tiny else ''}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="merflow-gpu-bench-") as tmp:
        rows = [hubert_row(args, Path(tmp)), clip_row(args, Path(tmp)), llm_row(args)]
    print(f"{'encoder':36s} {'batched clips/s':>16s} {'one at a time':>14s} {'speed-up':>9s}"
          f" {'GPU-h for 115,595 clips':>24s}")  # fmt: skip
    total = 0.0
    for label, batched, single in rows:
        hours = MER2024_CLIPS / batched / 3600
        total += hours
        print(f"{label:36s} {batched:16.2f} {single:14.2f} {batched / single:8.2f}x {hours:24.2f}")
    print(f"{'three encoders, batched':36s} {'':16s} {'':14s} {'':9s} {total:24.2f}")
    if not args.skip_search:
        for label, hours in search_rows(args).items():
            what = "3 tiny combinations" if args.tiny else "50 combinations"
            print(f"fusion search ({what} x 5 folds x 100 epochs), {label}: {hours:.3f} h")
    if args.tiny:
        print("(tiny configs: the figures exercise the code, they measure nothing)")


if __name__ == "__main__":
    main()
