"""Snakemake script of rule render_report_tables: each report table as an HTML page."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd

from merlib.metrics import write_text_atomic
from merlib.report import table_page


def main(tables, titles, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    for name, path in tables.items():
        table = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
        write_text_atomic(table_page(table, titles[name], path), output[name])
        logging.info("%s: %d rows -> %s", path, len(table), output[name])


main(dict(snakemake.input.items()), snakemake.params.titles, snakemake.output)
