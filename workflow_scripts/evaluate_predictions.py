"""Snakemake script of rule evaluate_predictions: CV and test scores, confusion, per class."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.candidates import scored_labels
from merlib.labels import label_set
from merlib.metrics import (
    evaluate,
    plot_confusion,
    plot_per_class_f1,
    read_test_labels,
    self_training_summary,
    test_confusion,
    write_json,
    write_tsv,
)
from merlib.provenance import cv_selection, run_provenance
from merlib.schemas import oof_schema, predictions_schema, read_table


def main(
    run_labels,
    oof,
    folds,
    predictions,
    test_labels,
    candidates,
    self_training,
    choice,
    asr_check,
    output,
    config,
):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    with open(folds, encoding="utf-8") as fh:
        fold_records = json.load(fh)["folds"]
    labels = read_test_labels(test_labels, run_labels) if test_labels else None
    if labels is None:
        logging.info("no test labels given: CV scores only")
    pool = read_table(predictions, predictions_schema(run_labels))
    restriction = None
    if labels is not None:
        # MER2024 scores its candidate subset only; every clip is still predicted
        labels, restriction = scored_labels(labels, candidates, pool.column("name").to_pylist())
    summary, per_class, confusion = evaluate(
        read_table(oof, oof_schema(run_labels)), fold_records, pool, labels, run_labels
    )
    if self_training:
        with open(self_training["record"], encoding="utf-8") as fh:
            record = json.load(fh)
        st_pool = read_table(self_training["predictions"], predictions_schema(run_labels))
        summary["self_training"] = self_training_summary(record, st_pool, labels, run_labels)
    if restriction is not None:
        summary["test"]["candidates"] = restriction
    # added keys (existing ones unchanged): how the CV score was selected, which model the
    # submission comes from and why, and provenance
    summary["cv"]["selection"] = cv_selection(config)
    with open(choice, encoding="utf-8") as fh:
        summary["submission"] = json.load(fh)
    # ASR measured on labelled clips (rule check_asr): CER with its interval, worst clips
    with open(asr_check, encoding="utf-8") as fh:
        summary["asr_check"] = json.load(fh)
    summary["provenance"] = run_provenance(config, os.path.dirname(os.path.abspath(__file__)))
    logging.info("summary: %s", json.dumps(summary))
    write_json(summary, output.summary)
    write_tsv(per_class, output.per_class)
    test = test_confusion(pool, labels, run_labels) if labels is not None else None
    plot_confusion(confusion, output.confusion, test=test, labels=run_labels)
    plot_per_class_f1(per_class, output.per_class_plot, run_labels)


main(
    label_set(snakemake.params.labels),
    snakemake.input.oof,
    snakemake.input.folds,
    snakemake.input.predictions,
    snakemake.input.get("test_labels") or None,
    snakemake.input.get("candidates") or None,
    {
        key: snakemake.input[f"self_training_{key}"]
        for key in ("record", "predictions")
        if f"self_training_{key}" in snakemake.input.keys()
    },
    snakemake.input.submission_choice,
    snakemake.input.asr_check,
    snakemake.output,
    snakemake.config,
)
