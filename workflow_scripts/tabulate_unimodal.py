"""Snakemake script of rule tabulate_unimodal: every feature alone (Table 3 style)."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402

from merlib.fusion.dataset import FeatureSources  # noqa: E402
from merlib.fusion.params import FusionParams  # noqa: E402
from merlib.metrics import write_tsv  # noqa: E402
from merlib.paper_tables import TableOptions, unimodal_table  # noqa: E402


def main(manifest, sources, modalities, fusion, seed, tables, search, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    params = FusionParams.from_config(fusion, seed=seed)
    options = TableOptions.from_config(tables, search)
    write_tsv(unimodal_table(manifest, sources, modalities, params, options), output.table)


main(
    snakemake.input.manifest,  # noqa: F821
    FeatureSources.from_inputs(snakemake.input, list(snakemake.params.modalities)),  # noqa: F821
    dict(snakemake.params.modalities),  # noqa: F821
    dict(snakemake.params.fusion),  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    dict(snakemake.params.tables),  # noqa: F821
    dict(snakemake.params.search),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output,  # noqa: F821
)
