"""Snakemake script of rule derive_ov_labels: open-set ground truth of the demo corpus."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd

from merlib.ov.demo_labels import demo_openset_labels
from merlib.ov.files import write_openset_csv


def main(labels, transcriptions, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    rows = demo_openset_labels(
        pd.read_csv(labels, dtype=str, keep_default_na=False),
        pd.read_csv(transcriptions, dtype=str, keep_default_na=False),
    )
    n_words = sum(len(w) for w in rows.values())
    logging.info("%d clips, %.2f words per clip", len(rows), n_words / max(1, len(rows)))
    write_openset_csv(rows, output)


main(snakemake.input.labels, snakemake.input.transcriptions, snakemake.output.labels)
