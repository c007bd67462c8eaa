"""Benchmark: the effect of the media-side reference options (``media.face_align``,
``media.face_fps``) on CV WAF, from results folders built with each setting.

Build one results folder per setting (the demo corpus, features only), e.g.

    snakemake --profile profiles/default --cores 2 --until extract_features
    snakemake ... --configfile config.yaml arcface.yaml --until extract_features

(``arcface.yaml``: ``media: {face_align: arcface}``), then

    .venv/bin/python bench/media_option_effects.py box=/work/a/results \
        arcface=/work/b/results [--seeds 5] [--threads 1]

For each folder: the fused model (``fusion.features``) and the visual feature alone, mean
+- std of CV WAF over seeds (each seed its own folds and initialisation), with the
embedded ``fusion.*``; and the number of face rows behind the visual feature.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import torch
import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from reference_effects import REPO, copy_results, fusion_base, over_seeds

from merlib.fusion.dataset import load_labelled


def face_rows(results: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (results / "media").rglob("faces*.parquet"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="label=results folder")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    fused = list(config["fusion"]["features"])
    visual = [f for f in fused if config["features"][f]["modality"] == "visual"]
    base = fusion_base(config)
    seeds = [int(config["seed"]) + i for i in range(args.seeds)]
    print(f"features {fused} (visual {visual}), seeds {seeds}")
    print("\n| setting | face rows | fused CV WAF | visual alone CV WAF |")
    print("| --- | --- | --- | --- |")
    for item in args.folders:
        label, _, folder = item.partition("=")
        results = Path(folder)
        with tempfile.TemporaryDirectory() as tmp:
            manifest, sources = copy_results(results, Path(tmp), fused)
            data = load_labelled(manifest, sources, fused)
            row = [over_seeds(data, fused, base, seeds)]
            row += [over_seeds(data, [f], base, seeds) for f in visual]
        print(f"| {label} | {face_rows(results)} | {' | '.join(row)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
