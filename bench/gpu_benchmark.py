"""One command that tells a user what their GPU will do with MER2024: every stage's speed,
achieved TFLOP/s against the device's own measured matrix peak, GPU memory, and the
projected GPU-hours for the 5,030 labelled + 115,595 unlabelled clips.

    .venv/bin/python bench/gpu_benchmark.py            # on a GPU node: sized for < 8 min
    .venv/bin/python bench/gpu_benchmark.py --tiny     # tiny configs on the CPU (CI smoke run)

Nothing is downloaded: models are random weights in real-size configurations, inputs are
synthetic (an encoder's cost does not depend on what its input shows or says), so only the
checkout is needed on an offline node (``../shared/GPU.md``). Stages:

* **peak**: a bf16 matrix product (8192^3; fp32 512^3 on the CPU) timed alone: the
  denominator of every "% of peak";
* **media** (``merlib.media.extract_shard``, CPU work on the node: ffmpeg decode, OpenCV
  face detection): synthetic 6 s clips made with ffmpeg, all cores as workers; skipped
  where no ffmpeg is found;
* **ASR**: Whisper-large-v3's shape through ``transformers`` (the backend a GPU node
  uses, issue 26): log-mel on the device, the encoder on the 30 s window, then greedy
  decoding of ``--asr-tokens`` tokens per clip with the KV cache;
* **encoders**, through merflow's own encoder classes where the weights fit on disk:
  HuBERT-large (``SpeechEncoder``) on 2-12 s speech clips, CLIP ViT-L/14's vision tower
  (``ImageEncoder``: face crops preprocessed on the device) on 4 crops per second of a
  2-12 s clip, and a Baichuan-13B-shaped decoder (``LlamaConfig``: 40 x 5120, built on
  the device in bf16, ``--tokens`` tokens per clip; 26 GB of weights are not written to
  disk and reloaded), each batched and one clip at a time;
* **search**: the paper's random search (50 combinations x 5 folds x 100 epochs, 5,030
  clips, three 1024-d features) through ``merlib.fusion.stacked.train_stacked`` on the
  device (random draws on the device), all combinations of a width in one stack (what
  ``search.combinations_per_job: all`` runs) and one combination per stack; ``--search-epochs``
  epochs timed per width (the first left out), extrapolated to 100; the fraction of one
  epoch's wall time the GPU spends in kernels (``torch.profiler``).

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one batch (matrix
products, convolutions, attention), for the search analytically (``bench/search_timing.py``).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

from search_timing import SPACE, epoch_flops, linear_shapes

from merlib import search
from merlib.fusion import stacked, training

LABELLED, UNLABELLED = 5_030, 115_595
MER2024_CLIPS = LABELLED + UNLABELLED
SR = 16_000
HUBERT_LARGE = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                    intermediate_size=4096)  # fmt: skip
CLIP_L14 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                num_attention_heads=16, image_size=224, patch_size=14,
                projection_dim=768)  # fmt: skip
BAICHUAN_13B = dict(hidden_size=5120, intermediate_size=13696, num_hidden_layers=40,
                    num_attention_heads=40, vocab_size=64000)  # fmt: skip
WHISPER_LARGE_V3 = dict(d_model=1280, encoder_layers=32, decoder_layers=32,
                        encoder_attention_heads=20, decoder_attention_heads=20,
                        encoder_ffn_dim=5120, decoder_ffn_dim=5120, num_mel_bins=128,
                        vocab_size=51866)  # fmt: skip
TINY = {
    "hubert": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=64, conv_dim=(32,) * 7),
    "clip": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                 num_attention_heads=2, image_size=56, patch_size=14, projection_dim=16),
    "llm": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, vocab_size=1000),
    "whisper": dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                    decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                    num_mel_bins=80, vocab_size=100),
}  # fmt: skip


@dataclass
class Row:
    stage: str
    what: str
    rate: float | None = None  # clips/s batched
    single: float | None = None  # clips/s one at a time
    flops_per_clip: float | None = None
    memory: float | None = None  # peak GiB on the GPU
    hours: float | None = None  # projected hours for MER2024
    note: str = ""


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reset_memory(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def matmul_peak(device: str, tiny: bool) -> tuple[float, str]:
    """Measured TFLOP/s of one large matrix product: bf16 on a GPU, fp32 on the CPU."""
    n, dtype = (512, torch.float32) if not device.startswith("cuda") else (8192, torch.bfloat16)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    repeats = 3 if tiny else 50
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    seconds = time.perf_counter() - start
    return 2 * n**3 * repeats / seconds / 1e12, f"{str(dtype).removeprefix('torch.')} {n}^3"


def count_flops(fn, *args) -> float:
    """FLOPs of ``fn(*args)`` by torch's own formulas (``flop_registry``: matrix products,
    convolutions, attention). ``FlopCounterMode`` itself is not used: its module tracker
    breaks on parametrised weights (HuBERT's weight-normed positional convolution)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            formula = flop_registry.get(func._overloadpacket)
            if formula is None:  # e.g. linear under inference_mode: count its parts
                with self:
                    out = func.decompose(*args, **kwargs)
                if out is not NotImplemented:
                    return out
            out = func(*args, **kwargs)
            if formula is not None:
                Count.total += int(formula(*args, **kwargs, out_val=out))
            return out

    with Count():
        fn(*args)
    return float(Count.total)


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


def speech_clips(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(0.1 * rng.standard_normal(int(rng.uniform(2, 12) * SR))).astype(np.float32)
            for _ in range(n)]  # fmt: skip


def face_clips(n: int, side: int = 112) -> list[list[np.ndarray]]:
    """4 crops per second of a 2-12 s clip (media's face_fps), smooth random images."""
    rng = np.random.default_rng(0)
    base = [np.kron(rng.integers(0, 256, (side // 8, side // 8, 3)), np.ones((8, 8, 1)))
            .astype(np.uint8) for _ in range(8)]  # fmt: skip
    return [[base[j] for j in rng.integers(0, len(base), int(4 * rng.uniform(2, 12)))]
            for _ in range(n)]  # fmt: skip


def encoder_row(stage, what, encoder, items, args) -> Row:
    reset_memory(args.device)
    batched, single = timed(encoder, items, args.batch, args.device)
    flops = count_flops(encoder, items[: args.batch]) / len(items[: args.batch])
    return Row(stage, what, batched, single, flops, peak_memory(args.device),
               MER2024_CLIPS / batched / 3600)  # fmt: skip


def options(args):
    from merlib.features.hf_common import TransformersOptions

    layers = 2 if args.tiny else 4  # the last 4 layers summed: the feature default
    return TransformersOptions({"device": args.device, "batch_size": args.batch, "layers": layers})


def hubert_row(args, folder: Path) -> Row:
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    from merlib.features.hf_audio import SpeechEncoder

    torch.manual_seed(0)
    sizes = TINY["hubert"] if args.tiny else HUBERT_LARGE
    config = HubertConfig(**sizes, feat_extract_norm="layer", do_stable_layer_norm=True)
    HubertModel(config).save_pretrained(folder / "hubert")
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(
        folder / "hubert"
    )
    encoder = SpeechEncoder(str(folder / "hubert"), options(args))
    return encoder_row("encoder", "HuBERT-large (audio)", encoder.encode,
                       speech_clips(args.clips), args)  # fmt: skip


def clip_row(args, folder: Path) -> Row:
    from transformers import CLIPImageProcessorPil, CLIPVisionConfig, CLIPVisionModelWithProjection

    from merlib.features.hf_visual import ImageEncoder

    torch.manual_seed(0)
    sizes = TINY["clip"] if args.tiny else CLIP_L14
    CLIPVisionModelWithProjection(CLIPVisionConfig(**sizes)).save_pretrained(folder / "clip")
    side = sizes["image_size"]
    CLIPImageProcessorPil(size={"shortest_edge": side}, crop_size=side).save_pretrained(
        folder / "clip"
    )
    encoder = ImageEncoder(str(folder / "clip"), options(args))
    how = "tensor" if encoder.tensor_preprocess is not None else "PIL"
    row = encoder_row("encoder", "CLIP ViT-L/14 (face crops)", encoder.encode,
                      face_clips(args.clips), args)  # fmt: skip
    crops = np.mean([len(c) for c in face_clips(args.clips)])
    row.note = f"{how} preprocessing, {crops:.0f} crops per clip, {row.rate * crops:.0f} crops/s"
    return row


def llm_row(args) -> Row:
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    sizes = TINY["llm"] if args.tiny else BAICHUAN_13B
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    reset_memory(args.device)
    with torch.device(args.device):
        model = LlamaModel(LlamaConfig(**sizes)).to(dtype).eval()
    g = torch.Generator().manual_seed(0)
    clips = [torch.randint(0, sizes["vocab_size"], (args.tokens,), generator=g)
             for _ in range(args.clips)]  # fmt: skip

    def encode(batch):
        ids = torch.stack(batch).to(args.device)
        with torch.inference_mode():
            return model(input_ids=ids).last_hidden_state.float().mean(1).cpu()

    row = encoder_row("encoder", "Baichuan-13B-shaped decoder (text)", encode, clips, args)
    row.note = f"{args.tokens} tokens per clip, {str(dtype).removeprefix('torch.')}"
    return row  # the model is freed when this returns, before the next stage


def asr_row(args) -> Row:
    """transformers Whisper (large-v3 shape): log-mel on the device, the encoder, greedy
    decoding of ``args.asr_tokens`` tokens with the KV cache, a batch of clips at once."""
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration
    from transformers.modeling_outputs import BaseModelOutput

    torch.manual_seed(0)
    sizes = TINY["whisper"] if args.tiny else WHISPER_LARGE_V3
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    reset_memory(args.device)
    config = WhisperConfig(**sizes, decoder_start_token_id=1, bos_token_id=1, pad_token_id=0,
                           eos_token_id=2)  # fmt: skip
    with torch.device(args.device):
        model = WhisperForConditionalGeneration(config).to(dtype).eval()
    extractor = WhisperFeatureExtractor(feature_size=sizes["num_mel_bins"])
    steps = args.asr_tokens

    warnings.filterwarnings("ignore", message=".*past_key_values.*")  # 5.24's rename: cache

    def transcribe(batch):
        feats = extractor(batch, sampling_rate=SR, return_tensors="pt", device=args.device)
        x = feats["input_features"].to(args.device, dtype)
        with torch.inference_mode():
            enc = BaseModelOutput(last_hidden_state=model.model.encoder(x).last_hidden_state)
            ids = torch.full((len(batch), 1), 1, dtype=torch.long, device=args.device)
            past = None
            for _ in range(steps):
                out = model(encoder_outputs=enc, decoder_input_ids=ids[:, -1:],
                            past_key_values=past, use_cache=True)  # fmt: skip
                past = out.past_key_values
                ids = torch.cat([ids, out.logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return ids.cpu()

    row = encoder_row("ASR", "Whisper-large-v3 shape (transformers)", transcribe,
                      speech_clips(args.clips), args)  # fmt: skip
    row.note = f"{steps} tokens per clip, greedy, {str(dtype).removeprefix('torch.')}"
    return row


def media_row(args, folder: Path) -> Row:
    from merlib.av.ffmpeg import ffmpeg_exe
    from merlib.media.params import MediaParams
    from merlib.media.shard import extract_shard

    try:
        ffmpeg = ffmpeg_exe()
    except Exception as exc:  # no ffmpeg on the node: say so, measure the rest
        return Row("media", "extract_media (CPU)", note=f"skipped: no ffmpeg ({exc!r})")
    n = 2 if args.tiny else 32
    clips = []
    for i in range(n):
        path = folder / "media" / f"clip{i:03d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:d=6",
             "-f", "lavfi", "-i", f"sine=frequency={200 + 20 * i}:sample_rate=48000:d=6",
             "-shortest", "-c:v", "mpeg4", "-q:v", "5", "-c:a", "aac", str(path)],
            check=True, timeout=120,
        )  # fmt: skip
        clips.append({"name": f"clip{i:03d}", "path": path.name})
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    extract_shard(clips, folder / "media", MediaParams(), workers=workers)
    rate = n / (time.perf_counter() - start)
    note = f"{workers} workers, 6 s 640x360 synthetic clips; node-hours, not GPU"
    return Row("media", "extract_media (CPU)", rate, hours=MER2024_CLIPS / rate / 3600, note=note)


class SyncedClock:
    """train_stacked's progress hook: the device's time at the end of every epoch."""

    def __init__(self, device: str):
        self.device = device
        self.marks = [time.perf_counter()]

    def update(self, n):
        sync(self.device)
        self.marks.append(time.perf_counter())

    def per_epoch(self) -> float:
        first = self.marks[1] if len(self.marks) > 2 else self.marks[0]
        return (self.marks[-1] - first) / max(1, len(self.marks) - 2)


def gpu_busy_fraction(run, device: str) -> float | None:
    """Share of the second epoch's wall time the GPU spends in kernels (profiler)."""
    if not device.startswith("cuda"):
        return None
    from torch.profiler import ProfilerActivity, profile

    class Window:
        def __init__(self):
            self.prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
            self.epochs, self.wall = 0, 0.0

        def update(self, n):
            sync(device)
            self.epochs += 1
            if self.epochs == 1:
                self.prof.start()
                self.wall = time.perf_counter()
            elif self.epochs == 2:
                self.wall = time.perf_counter() - self.wall
                self.prof.stop()

    window = Window()
    run(2, window)
    try:  # the device's own events (kernels, copies), each counted once
        from torch.autograd import DeviceType

        events = [e for e in window.prof.events() if e.device_type == DeviceType.CUDA]
        busy_us = sum(e.time_range.elapsed_us() for e in events)
    except Exception:  # a profiler API that differs on this torch: no figure, not a failure
        traceback.print_exc()
        return None
    return busy_us / 1e6 / window.wall


def search_rows(args) -> list[Row]:
    clips, dim, n_combos = (60, 8, 3) if args.tiny else (LABELLED, 1024, 50)
    full_epochs, folds = 100, 5
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(clips, dim)).astype(np.float32) for _ in range(3)]
    mask = np.ones((clips, 3), dtype=bool)
    y = rng.integers(0, 6, size=clips)
    splits = training.cv_splits(y, folds, seed=2024)
    per_width = collections.Counter(
        c["hidden_dim"] for c in search.sample_combinations(SPACE, n_combos, seed=2024)
    )
    train_rows = sum(len(tr) for tr, _ in splits)
    val_rows = sum(len(va) for _, va in splits)

    def run(width, copies, epochs, progress):
        specs = [stacked.ModelSpec(tr, va, 0.3, 1e-3, 1000 * c + k)
                 for c in range(copies) for k, (tr, va) in enumerate(splits)]  # fmt: skip
        stacked.train_stacked(
            arrays, mask, y, specs, hidden_dim=width, attention="raw", epochs=epochs,
            batch_size=32, weight_decay=1e-5, device=args.device, progress=progress,
            random_stream="device",  # a GPU's default; forced so that --tiny runs it too
        )  # fmt: skip

    rows = []
    for label, together in (("a width per stack (combinations_per_job: all)", True),
                            ("one combination per stack", False)):  # fmt: skip
        total_s, flops, memory, busy = 0.0, 0.0, 0.0, []
        for width, n in sorted(per_width.items()):
            copies = n if together else 1
            reset_memory(args.device)
            clock = SyncedClock(args.device)
            run(width, copies, args.search_epochs, clock)
            stacks = 1 if together else n
            total_s += clock.per_epoch() * full_epochs * stacks
            shapes = linear_shapes([dim] * 3, width)
            flops += epoch_flops(shapes, train_rows * n, val_rows * n) * full_epochs
            memory = max(memory, peak_memory(args.device) or 0.0)
            if together:
                fraction = gpu_busy_fraction(lambda e, p, w=width, c=copies: run(w, c, e, p),
                                             args.device)  # fmt: skip
                if fraction is not None:
                    busy.append(f"{width}: {100 * fraction:.0f} %")
        note = f"GPU busy per epoch (hidden {', '.join(busy)})" if busy else ""
        row = Row("search", label, hours=total_s / 3600, note=note)
        row.flops_per_clip, row.rate = flops, None
        row.memory = memory if args.device.startswith("cuda") else None
        row.single = total_s  # seconds of the whole search
        rows.append(row)
    return rows


def _fmt(value, spec):
    """``value`` formatted, or a dash as wide as the field when there is none."""
    width = int(spec.split(".")[0] or 0)
    return format(value, spec) if value is not None else "-".rjust(width)


def print_table(rows: list[Row], peak: float, args) -> None:
    head = (f"{'stage':8s} {'what':46s} {'clips/s':>9s} {'1 at a time':>11s} {'TFLOP/s':>8s}"
            f" {'% peak':>7s} {'GPU GiB':>8s} {'hours MER2024':>13s}  note")  # fmt: skip
    print(head)
    for r in rows:
        if r.stage == "search" and r.single:  # whole-search flops and seconds
            tflops = r.flops_per_clip / r.single / 1e12 if r.single else None
            note = f"{r.single:.0f} s for the search; {r.note}".rstrip("; ")
            print(f"{r.stage:8s} {r.what[:46]:46s} {'':>9s} {'':>11s} {_fmt(tflops, '8.3f')} "
                  f"{_fmt(tflops and 100 * tflops / peak, '6.2f')}% {_fmt(r.memory, '8.2f')} "
                  f"{_fmt(r.hours, '13.3f')}  {note}")  # fmt: skip
            continue
        tflops = r.flops_per_clip * r.rate / 1e12 if r.flops_per_clip and r.rate else None
        share = f"{100 * tflops / peak:6.2f}%" if tflops else f"{'-':>7s}"
        print(f"{r.stage:8s} {r.what[:46]:46s} {_fmt(r.rate, '9.2f')} {_fmt(r.single, '11.2f')} "
              f"{_fmt(tflops, '8.3f')} {share} {_fmt(r.memory, '8.2f')} "
              f"{_fmt(r.hours, '13.2f')}  {r.note}")  # fmt: skip
    encoders = [r for r in rows if r.stage == "encoder" and r.hours is not None]
    total = sum(r.hours for r in encoders)
    print(f"{'total':8s} {'three encoders, batched':46s} {'':>9s} {'':>11s} {'':>8s} {'':>7s} "
          f"{'':>8s} {total:13.2f}  GPU-hours for {MER2024_CLIPS:,} clips")  # fmt: skip
    for r in rows:
        if r.stage == "search" and r.hours is not None:
            what = "3 tiny combinations" if args.tiny else "50 combinations"
            print(f"fusion search ({what} x 5 folds x 100 epochs), {r.what}: {r.hours:.3f} h")


STAGES = ("media", "asr", "hubert", "clip", "llm", "search")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny configs: a CPU smoke run")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--clips", type=int, default=None, help="clips per encoder (64; tiny 4)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64, help="text tokens per clip")
    ap.add_argument("--asr-tokens", type=int, default=32, help="tokens decoded per clip")
    ap.add_argument("--search-epochs", type=int, default=3, help="epochs timed per width")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"of {','.join(STAGES)}")
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--strict", action="store_true", help="stop at a failing stage")
    args = ap.parse_args(argv)
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stages {sorted(unknown)}; choose from {','.join(STAGES)}")
    if args.skip_search and "search" in stages:
        stages.remove("search")
    args.clips = args.clips or (4 if args.tiny else 64)
    if args.tiny:
        args.batch, args.tokens = min(args.batch, 2), min(args.tokens, 8)
        args.asr_tokens, args.search_epochs = min(args.asr_tokens, 4), min(args.search_epochs, 2)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    peak, how = matmul_peak(args.device, args.tiny)
    print(f"device {args.device} ({name}), torch {torch.__version__}, {args.clips} clips per "
          f"encoder, batch {args.batch}{', TINY configs' if args.tiny else ''}; measured matrix "
          f"peak {peak:.2f} TFLOP/s ({how})")  # fmt: skip
    rows: list[Row] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="merflow-gpu-bench-") as tmp:
        folder = Path(tmp)
        makers = {"media": lambda: [media_row(args, folder)], "asr": lambda: [asr_row(args)],
                  "hubert": lambda: [hubert_row(args, folder)],
                  "clip": lambda: [clip_row(args, folder)], "llm": lambda: [llm_row(args)],
                  "search": lambda: search_rows(args)}  # fmt: skip
        for stage in stages:
            t0 = time.perf_counter()
            try:
                rows += makers[stage]()
            except Exception as exc:  # one stage failing on a borrowed node: report, go on
                if args.strict:
                    raise
                traceback.print_exc()
                rows.append(Row(stage, stage, note=f"FAILED: {exc!r}"[:200]))
            print(f"  ({stage}: {time.perf_counter() - t0:.1f} s)", flush=True)
            shutil.rmtree(folder / stage, ignore_errors=True)
    print_table(rows, peak, args)
    print(f"benchmark wall time {time.perf_counter() - start:.0f} s")
    if args.tiny:
        print("(tiny configs: the figures exercise the code, they measure nothing)")


if __name__ == "__main__":
    main()
