"""Snakemake script of rule compare_ov_baselines: baselines side by side, per grouping."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.atomic import write_text_atomic
from merlib.ov.files import load_groupings, read_openset_csv
from merlib.ov.scoring import compare_predictions


def main(gt, preds, synonyms, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    table = compare_predictions(
        read_openset_csv(gt, allow_empty=False),
        {method: read_openset_csv(path) for method, path in preds.items()},
        {key: load_groupings(path) for key, path in synonyms.items()},
    )
    logging.info("\n%s", table.to_string(index=False))
    write_text_atomic(table.to_csv(sep="\t", index=False, float_format="%.4f"), output)


main(
    snakemake.input.gt,
    snakemake.params.preds,
    snakemake.params.synonyms,
    snakemake.output.table,
)
