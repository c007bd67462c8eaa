"""Snakemake script of rule select_for_annotation: class-balanced clips to annotate."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.annotation import select_for_annotation
from merlib.collect.export import write_text


def main(predictions, size, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    selected = select_for_annotation(predictions, size)
    logging.info("selected %d clips: %s", len(selected), selected["majority"].value_counts())
    write_text(out, selected.to_csv(index=False))


main(
    snakemake.input.predictions,
    snakemake.params.size,
    snakemake.output.selected,
)
