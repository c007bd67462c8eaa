"""Snakemake script of rule tabulate_multimodal: A+V, A+T, V+T, A+V+T with Top-N features."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from merlib.fusion.dataset import FeatureSources  # noqa: E402
from merlib.fusion.params import FusionParams  # noqa: E402
from merlib.metrics import write_tsv  # noqa: E402
from merlib.paper_tables import TableOptions, multimodal_table, plot_tables  # noqa: E402


def main(manifest, unimodal, sources, fusion, seed, tables, search, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    params = FusionParams.from_config(fusion, seed=seed)
    options = TableOptions.from_config(tables, search)
    ranked = pd.read_csv(unimodal, sep="\t")
    table = multimodal_table(manifest, sources, ranked, params, options)
    write_tsv(table, output.table)
    plot_tables(ranked, table, output.plot)


main(
    snakemake.input.manifest,  # noqa: F821
    snakemake.input.unimodal,  # noqa: F821
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),  # noqa: F821
    dict(snakemake.params.fusion),  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    dict(snakemake.params.tables),  # noqa: F821
    dict(snakemake.params.search),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output,  # noqa: F821
)
