"""Snakemake script of rule agree_labels: clips at least K of N annotators agree on."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.annotation import agree_labels
from merlib.collect.export import write_text


def main(annotators, min_agree, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    votes = agree_labels(list(annotators), min_agree)
    agreed = votes[votes["discrete"].notna()]
    logging.info("%d of %d clips agreed by >= %d annotators", len(agreed), len(votes), min_agree)
    write_text(out, agreed.to_csv(index=False))


main(
    snakemake.input.annotators,
    snakemake.params.min_agree,
    snakemake.output.agreed,
)
