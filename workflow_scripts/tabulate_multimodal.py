"""Snakemake script of rule tabulate_multimodal: A+V, A+T, V+T, A+V+T with Top-N features."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd
import torch

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.params import FusionParams
from merlib.metrics import write_tsv
from merlib.paper_tables import TableOptions, multimodal_table, plot_tables


def main(labels, manifest, unimodal, sources, fusion, seed, tables, search, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    params = FusionParams.from_config(fusion, seed=seed)
    options = TableOptions.from_config(tables, search, labels)
    ranked = pd.read_csv(unimodal, sep="\t")
    table = multimodal_table(manifest, sources, ranked, params, options)
    write_tsv(table, output.table)
    plot_tables(ranked, table, output.plot)


main(
    snakemake.params.labels,
    snakemake.input.manifest,
    snakemake.input.unimodal,
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),
    dict(snakemake.params.fusion),
    snakemake.params.seed,
    dict(snakemake.params.tables),
    dict(snakemake.params.search),
    snakemake.threads,
    snakemake.output,
)
