"""Benchmark: `snakemake -n` on a MER2024-sized release (placeholder videos).

Makes a MER2024-layout folder with 5,030 labelled and 115,595 unlabelled empty
placeholder .mp4 files (plus both label CSVs), then times a dry run of the whole
workflow on it with 256 shards and prints wall time and the peak memory of the
snakemake process. Target: under 20 s and under 1 GB on 2 cores.

    .venv/bin/python bench/dryrun_scale.py [--labelled 5030] [--unlabelled 115595]
        [--configfile configs/mer2024-paper.yaml] [--ingested]

ingest_release is a checkpoint: on a fresh folder the dry run plans up to it. With
``--ingested`` a manifest of every placeholder clip (what ingest would write for real
videos) is written first, so the dry run plans every per-shard job and computes every
shard's digest, as a rerun at release scale does.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELS = ("neutral", "angry", "happy", "sad", "worried", "surprise")


def make_placeholder_release(root: Path, n_labelled: int, n_unlabelled: int) -> None:
    labelled, unlabelled = root / "video-labeled", root / "video-unlabeled-with-test2noise"
    labelled.mkdir(parents=True)
    unlabelled.mkdir()
    with (
        open(root / "label-disdim.csv", "w", newline="") as f_lab,
        open(root / "label-transcription.csv", "w", newline="", encoding="utf-8") as f_txt,
    ):
        lab, txt = csv.writer(f_lab), csv.writer(f_txt)
        lab.writerow(["name", "discrete"])
        txt.writerow(["name", "chinese"])
        for i in range(n_labelled):
            name = f"sample_{i:08d}"
            (labelled / f"{name}.mp4").touch()
            lab.writerow([name, LABELS[i % len(LABELS)]])
            txt.writerow([name, "我今天很开心"])
        for i in range(n_unlabelled):
            name = f"sample_{n_labelled + i:08d}"
            (unlabelled / f"{name}.mp4").touch()
            txt.writerow([name, "真的吗"])


def write_manifest(work: Path, n_labelled: int, n_unlabelled: int, shards: int) -> None:
    """The manifest and (empty) rejects ingest would write for the placeholder release."""
    sys.path.insert(0, str(REPO / "workflow_scripts"))
    from merlib.schemas import INGEST_REJECTS, MANIFEST, table_from_rows, write_table
    from merlib.shards import shard_of

    rows = []
    for i in range(n_labelled + n_unlabelled):
        name, labelled = f"sample_{i:08d}", i < n_labelled
        folder = "video-labeled" if labelled else "video-unlabeled-with-test2noise"
        rows.append(
            {
                "name": name,
                "split": "labeled" if labelled else "unlabeled",
                "path": f"{folder}/{name}.mp4",
                "discrete": LABELS[i % len(LABELS)] if labelled else None,
                "transcription": "我今天很开心" if labelled else None,
                "shard": shard_of(name, shards),
            }
        )
    out = work / "results" / "ingest"
    write_table(table_from_rows(rows, MANIFEST), out / "manifest.parquet", MANIFEST)
    write_table(INGEST_REJECTS.empty_table(), out / "rejects.parquet", INGEST_REJECTS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=int, default=5030)
    parser.add_argument("--unlabelled", type=int, default=115595)
    parser.add_argument("--shards", type=int, default=256)
    parser.add_argument("--configfile", action="append", default=[])
    parser.add_argument("--ingested", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_placeholder_release(tmp / "mer2024", args.labelled, args.unlabelled)
        print(
            f"placeholder release: {args.labelled} + {args.unlabelled} files "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        cmd = [
            str(REPO / ".venv" / "bin" / "snakemake"),
            "-n",
            "--quiet",
            "rules",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--configfile",
            str(REPO / "config.yaml"),
            *[str(REPO / c) for c in args.configfile],
            "--directory",
            str(tmp / "work"),
            "--config",
            f"data_root={tmp / 'mer2024'}",
            f"shards={args.shards}",
        ]
        (tmp / "work").mkdir()
        if args.ingested:
            write_manifest(tmp / "work", args.labelled, args.unlabelled, args.shards)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return proc.returncode
        print(proc.stdout.strip())
        print(f"snakemake -n wall time: {wall:.1f} s (target < 20 s)")
        print(f"snakemake -n peak memory: {peak_kb / 1024:.0f} MB (target < 1024 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
