"""Snakemake script of rule search_fusion: cross-validate the combination(s) of one search job.

With ``search.combinations_per_job`` 1 the output is the combination's record; with more,
``{"records": [...]}``, one record per combination (split_search_job copies them out).
"""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import torch

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.params import FusionParams
from merlib.labels import label_set
from merlib.metrics import write_json
from merlib.search import run_combinations


def main(labels, manifest, features, sources, fusion, seed, combinations, per_job, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    base = FusionParams.from_config(fusion, seed=seed)
    logging.info("combinations %s on features %s", combinations, ", ".join(features))
    device = fusion.get("device", "auto")
    records = run_combinations(
        manifest, sources, features, base, combinations, device, labels=labels
    )
    for record in records:
        logging.info(
            "combination %d: WAF %.4f +- %.4f",
            record["combination"],
            record["waf"],
            record["std"]["waf"],
        )
    write_json(records[0] if per_job == 1 else {"records": records}, output.records)


main(
    label_set(snakemake.params.labels),
    snakemake.input.manifest,
    list(snakemake.params.features),
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),
    dict(snakemake.params.fusion),
    snakemake.params.seed,
    [dict(c) for c in snakemake.params.combinations],
    snakemake.params.per_job,
    snakemake.threads,
    snakemake.output,
)
