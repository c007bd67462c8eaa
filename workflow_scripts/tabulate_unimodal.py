"""Snakemake script of rule tabulate_unimodal: every feature alone (Table 3 style)."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import torch

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.params import FusionParams
from merlib.metrics import write_tsv
from merlib.paper_tables import TableOptions, unimodal_table


def main(labels, manifest, sources, modalities, fusion, seed, tables, search, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    params = FusionParams.from_config(fusion, seed=seed)
    options = TableOptions.from_config(tables, search, labels)
    write_tsv(unimodal_table(manifest, sources, modalities, params, options), output.table)


main(
    snakemake.params.labels,
    snakemake.input.manifest,
    FeatureSources.from_inputs(snakemake.input, list(snakemake.params.modalities)),
    dict(snakemake.params.modalities),
    dict(snakemake.params.fusion),
    snakemake.params.seed,
    dict(snakemake.params.tables),
    dict(snakemake.params.search),
    snakemake.threads,
    snakemake.output,
)
