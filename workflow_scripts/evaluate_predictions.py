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
    plot_per_class_f1,
    read_test_labels,
    self_training_summary,
    test_confusion,
    write_json,
    write_tsv,
)
from merlib.provenance import cv_selection, run_provenance  # noqa: E402
from merlib.schemas import OOF_PREDICTIONS, PREDICTIONS, read_table  # noqa: E402


def main(oof, folds, predictions, test_labels, self_training, output, config):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    with open(folds, encoding="utf-8") as fh:
        fold_records = json.load(fh)["folds"]
    labels = read_test_labels(test_labels) if test_labels else None
    if labels is None:
        logging.info("no test labels given: CV scores only")
    pool = read_table(predictions, PREDICTIONS)
    summary, per_class, confusion = evaluate(
        read_table(oof, OOF_PREDICTIONS), fold_records, pool, labels
    )
    if self_training:
        with open(self_training["record"], encoding="utf-8") as fh:
            record = json.load(fh)
        st_pool = read_table(self_training["predictions"], PREDICTIONS)
        summary["self_training"] = self_training_summary(record, st_pool, labels)
    # added keys (existing ones unchanged): how the CV score was selected, and provenance
    summary["cv"]["selection"] = cv_selection(config)
    summary["provenance"] = run_provenance(config, os.path.dirname(os.path.abspath(__file__)))
    logging.info("summary: %s", json.dumps(summary))
    write_json(summary, output.summary)
    write_tsv(per_class, output.per_class)
    test = test_confusion(pool, labels) if labels is not None else None
    plot_confusion(confusion, output.confusion, test=test)
    plot_per_class_f1(per_class, output.per_class_plot)


main(
    snakemake.input.oof,  # noqa: F821
    snakemake.input.folds,  # noqa: F821
    snakemake.input.predictions,  # noqa: F821
    snakemake.input.get("test_labels") or None,  # noqa: F821
    {
        key: snakemake.input[f"self_training_{key}"]  # noqa: F821
        for key in ("record", "predictions")
        if f"self_training_{key}" in snakemake.input.keys()  # noqa: F821
    },
    snakemake.output,  # noqa: F821
    snakemake.config,  # noqa: F821
)
