"""Snakemake script of rule write_submission: the challenge CSV from the chosen model."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.fusion.submission import choose_model, write_submission
from merlib.labels import label_set
from merlib.metrics import write_json
from merlib.schemas import predictions_schema, read_table


def main(labels, inputs, requested, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    record = None
    if "self_training_record" in inputs.keys():
        with open(inputs.self_training_record, encoding="utf-8") as fh:
            record = json.load(fh)
    choice = choose_model(requested, record)
    source = inputs.supervised
    if choice["model"] == "self_training":
        source = inputs.self_training_predictions
    choice["predictions"] = source
    logging.info("submission from %s (%s): %s", choice["model"], source, choice["reason"])
    write_submission(read_table(source, predictions_schema(labels)), output.submission)
    write_json(choice, output.choice)


main(
    label_set(snakemake.params.labels),
    snakemake.input,
    snakemake.params.model,
    snakemake.output,
)
