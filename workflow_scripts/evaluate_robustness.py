"""Snakemake script of rule evaluate_robustness: WAF clean vs noisy, overall, per SNR and
per blur factor."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.atomic import write_text_atomic
from merlib.candidates import scored_labels
from merlib.labels import label_set
from merlib.metrics import read_test_labels, write_json
from merlib.noise.robustness import robustness
from merlib.schemas import NOISE, predictions_schema, read_table


def main(labels, clean, noisy, noise, test_labels, candidates, folds, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    clean = read_table(clean, predictions_schema(labels))
    # MER2024 scores its candidate subset only
    test, restriction = scored_labels(
        read_test_labels(test_labels, labels), candidates, clean.column("name").to_pylist()
    )
    summary, table = robustness(
        clean,
        read_table(noisy, predictions_schema(labels)),
        read_table(noise, NOISE),
        test,
        labels,
    )
    if restriction is not None:
        summary["candidates"] = restriction
    with open(folds, encoding="utf-8") as fh:
        # how the scored model was trained: 0 without noise augmentation
        summary["noisy_copies_in_training"] = int(json.load(fh).get("noisy_copies", 0))
    logging.info("robustness: %s", json.dumps(summary))
    write_text_atomic(table.to_pandas().to_csv(sep="\t", index=False), output.table)
    write_json(summary, output.summary)


main(
    label_set(snakemake.params.labels),
    snakemake.input.clean,
    snakemake.input.noisy,
    snakemake.input.noise,
    snakemake.input.test_labels,
    snakemake.input.get("candidates") or None,
    snakemake.input.folds,
    snakemake.output,
)
