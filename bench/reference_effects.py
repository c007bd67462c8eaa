"""Benchmark: the effect of each fusion-side reference option on CV WAF, and the cost of
the per-row table search, on already-built features (the demo's, by default).

For every variant, the mean +- std over seeds of the cross-validated WAF (each seed: its
own folds and initialisation; one seed's WAF is the mean over its folds):

* the fused model (``fusion.features``): merflow's default, ``fusion.scaling: none``,
  ``fusion.split: blocks``, and both (the reference);
* Table 3 rows: each feature as 1 branch (merflow) and 3 branches (reference);
* Table 4 pairs at Top-1: each feature once (merflow) and the reference's repetition
  (A+V = A,V,V; A+T = A,T,T; V+T = T,T,V).

Then one run of both tables with ``tables.row_search: N`` (N draws from ``search.*``),
timed: cross-validations trained and CPU seconds.

    .venv/bin/python bench/reference_effects.py [--results /work/wt-base/results]
        [--seeds 5] [--row-search 6] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.fusion.dataset import FeatureSources, load_labelled
from merlib.fusion.params import FusionParams
from merlib.fusion.training import cross_validate
from merlib.metrics import summarise
from merlib.paper_tables import (
    REPEATED_SLOTS,
    TableOptions,
    branch_inputs,
    multimodal_table,
    unimodal_table,
)


def copy_results(src: Path, dst: Path, features: list[str]) -> tuple[Path, FeatureSources]:
    """Copy the manifest and the features' shard tables (the source stays untouched)."""
    shutil.copy2(src / "ingest" / "manifest.parquet", dst / "manifest.parquet")
    files, flags = {}, {}
    for table, out in (("features", files), ("feature_flags", flags)):
        for f in features:
            folder = dst / table / f
            shutil.copytree(src / table / f, folder)
            out[f] = sorted(str(p) for p in folder.glob("*.parquet"))
    return dst / "manifest.parquet", FeatureSources(files, flags)


def fusion_base(config: dict) -> dict:
    """The embedded ``fusion.*`` values that :class:`FusionParams` takes (not ``features``,
    nor the job-level ``device``), nulls left to their defaults."""
    known = {f.name for f in dataclasses.fields(FusionParams)}
    return {k: v for k, v in config["fusion"].items() if k in known and v is not None}


def cv_waf(data, slots, params) -> float:
    X, M = branch_inputs(data.X, data.mask, slots)
    return summarise(cross_validate(X, M, data.labels, params).folds)["waf"]


def over_seeds(data, slots, base: dict, seeds: list[int]) -> str:
    wafs = [cv_waf(data, slots, FusionParams(**(base | {"seed": s}))) for s in seeds]
    return f"{np.mean(wafs):.4f} +- {np.std(wafs):.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("/work/wt-base/results"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--row-search", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    fused = list(config["fusion"]["features"])
    modality = {f: config["features"][f]["modality"] for f in fused}
    base = fusion_base(config)
    seeds = [int(config["seed"]) + i for i in range(args.seeds)]
    with tempfile.TemporaryDirectory() as tmp:
        manifest, sources = copy_results(args.results, Path(tmp), fused)
        data = load_labelled(manifest, sources, fused)
        print(f"{len(data.names)} labelled clips, features {fused}, seeds {seeds}")
        print("\n| variant | CV WAF (mean +- std over seeds) |\n| --- | --- |")
        variants = {
            "fused, merflow default": {},
            "fused, scaling none": {"scaling": "none"},
            "fused, split blocks": {"split": "blocks"},
            "fused, scaling none + split blocks": {"scaling": "none", "split": "blocks"},
        }
        for name, change in variants.items():
            print(f"| {name} | {over_seeds(data, fused, base | change, seeds)} |", flush=True)
        for f in fused:
            for branches in (1, 3):
                print(
                    f"| Table 3 {f}, {branches} branch(es) | "
                    f"{over_seeds(data, [f] * branches, base, seeds)} |",
                    flush=True,
                )
        by_modality = {modality[f]: f for f in fused}
        for pair, slots in REPEATED_SLOTS.items():
            if not all(m in by_modality for m in pair):
                continue
            once = [by_modality[m] for m in pair]
            repeated = [by_modality[m] for m in slots]
            for label, row in (("once", once), ("repeated", repeated)):
                print(
                    f"| Table 4 {'+'.join(pair)} top-1, {label} {','.join(row)} | "
                    f"{over_seeds(data, row, base, seeds)} |",
                    flush=True,
                )

        params = FusionParams(**base)
        modalities = {f: modality[f] for f in fused}
        for n in (0, args.row_search):
            options = TableOptions(row_search=n, search_space=config["search"])
            wall, cpu = time.perf_counter(), time.process_time()
            uni = unimodal_table(manifest, sources, modalities, params, options)
            multi = multimodal_table(manifest, sources, uni, params, options)
            rows = len(uni) + len(multi)
            print(
                f"\ntables with row_search={n}: {rows} rows, {rows * max(n, 1)} "
                f"cross-validations, {time.process_time() - cpu:.1f} CPU s, "
                f"{time.perf_counter() - wall:.1f} s wall"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
