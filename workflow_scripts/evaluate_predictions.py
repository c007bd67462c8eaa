"""Snakemake script of rule evaluate_predictions: CV and test scores, confusion, per class."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import (  # noqa: E402
    evaluate,
    plot_confusion,
    read_test_labels,
    write_json,
    write_text_atomic,
)
from merlib.tables import OOF_PREDICTIONS, PREDICTIONS, read_table  # noqa: E402


def main(oof, folds, predictions, test_labels, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    with open(folds, encoding="utf-8") as fh:
        fold_records = json.load(fh)["folds"]
    labels = read_test_labels(test_labels) if test_labels else None
    if labels is None:
        logging.info("no test labels given: CV scores only")
    summary, per_class, confusion = evaluate(
        read_table(oof, OOF_PREDICTIONS),
        fold_records,
        read_table(predictions, PREDICTIONS),
        labels,
    )
    logging.info("summary: %s", json.dumps(summary))
    write_json(summary, output.summary)
    write_text_atomic(per_class.to_csv(sep="\t", index=False), output.per_class)
    plot_confusion(confusion, output.confusion)


main(
    snakemake.input.oof,  # noqa: F821
    snakemake.input.folds,  # noqa: F821
    snakemake.input.predictions,  # noqa: F821
    snakemake.input.get("test_labels") or None,  # noqa: F821
    snakemake.output,  # noqa: F821
)
