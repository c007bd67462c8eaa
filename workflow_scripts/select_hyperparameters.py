"""Snakemake script of rule select_hyperparameters: best search combination, table and plot."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import write_json, write_tsv
from merlib.search import plot_search, read_records, search_table, select_best


def main(records, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    records = read_records(records)
    best = select_best(records)
    logging.info(
        "best of %d: combination %d, %s, WAF %.4f",
        len(records),
        best["combination"],
        best["params"],
        best["waf"],
    )
    table = search_table(records)
    write_json(best, output.selected)
    write_tsv(table, output.table)
    plot_search(table, output.plot)


main(list(snakemake.input.records), snakemake.output)
