"""Benchmark: MER-NOISE injection throughput, its decode/encode share, and the SNR error.

Adds noise and blur (merlib.noise.shard.inject_shard, the code rule inject_noise runs) to the
evaluation clips of a MER2024-layout folder (default: the demo corpus) with ``--workers``
clips at once, then prints clips per second, the share of the summed per-clip time spent
decoding (clean audio, frames, noise files), mixing and blurring, and encoding (wav files,
H.264 + AAC mp4), and the SNR recomputed from the written clean and noisy wav files against
the drawn one (largest error, without and with the overflow rescale recorded in the table).

    .venv/bin/python bench/noise_throughput.py --musan ../shared/data/audio/librispeech \
        [--release resources/demo] [--workers 2] [--limit 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.noise.corpus import NoiseCorpus
from merlib.noise.params import NoiseParams
from merlib.noise.robustness import snr_check
from merlib.noise.shard import inject_shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--musan", required=True, help="noise folder (MUSAN speech)")
    parser.add_argument("--release", default=str(REPO / "resources" / "demo"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="first N clips only (0: all)")
    args = parser.parse_args()

    folder = Path(args.release) / "video-unlabeled-with-test2noise"
    videos = sorted(folder.glob("*.mp4"))
    if args.limit:
        videos = videos[: args.limit]
    if not videos:
        sys.exit(f"no evaluation clips in {folder}")
    clips = [{"name": p.stem, "path": p.relative_to(args.release).as_posix()} for p in videos]
    corpus = NoiseCorpus.open(args.musan)
    with tempfile.TemporaryDirectory(prefix="noise-bench-") as out:
        start = time.perf_counter()
        table, rejects, t = inject_shard(
            clips, args.release, out, corpus, NoiseParams(), workers=args.workers
        )
        wall = time.perf_counter() - start
        checks = snr_check(table)
    total = t.decode + t.process + t.encode
    print(f"clips: {len(clips)} ({table.num_rows} noisy, {rejects.num_rows} rejected)")
    print(
        f"workers: {args.workers}; wall: {wall:.2f} s; throughput: {len(clips) / wall:.2f} clips/s"
    )
    print(
        f"summed per-clip time {total:.2f} s: decode {t.decode / total:.1%}, "
        f"mix+blur {t.process / total:.1%}, encode {t.encode / total:.1%} "
        f"(decode+encode {(t.decode + t.encode) / total:.1%})"
    )
    plain = [abs(c["measured_db"] - c["snr_db"]) for c in checks if not c["rescaled"]]
    scaled = [c for c in checks if c["rescaled"]]
    if plain:
        print(f"SNR error, clips not rescaled ({len(plain)}): max {max(plain):.4f} dB")
    print(f"clips rescaled to fit int16: {len(scaled)}")
    if scaled:
        naive = max(abs(c["measured_db"] - c["snr_db"]) for c in scaled)
        fixed = max(abs(c["measured_scaled_db"] - c["snr_db"]) for c in scaled)
        print(
            f"  their SNR error: max {naive:.4f} dB (noisy - clean), {fixed:.4f} dB (x mix_scale)"
        )


if __name__ == "__main__":
    main()
