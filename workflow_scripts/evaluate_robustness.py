"""Snakemake script of rule evaluate_robustness: WAF clean vs noisy, overall, per SNR and
per blur factor."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.atomic import write_text_atomic  # noqa: E402
from merlib.metrics import read_test_labels, write_json  # noqa: E402
from merlib.noise.robustness import robustness  # noqa: E402
from merlib.schemas import NOISE, PREDICTIONS, read_table  # noqa: E402


def main(clean, noisy, noise, test_labels, folds, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    summary, table = robustness(
        read_table(clean, PREDICTIONS),
        read_table(noisy, PREDICTIONS),
        read_table(noise, NOISE),
        read_test_labels(test_labels),
    )
    with open(folds, encoding="utf-8") as fh:
        # how the scored model was trained: 0 without noise augmentation
        summary["noisy_copies_in_training"] = int(json.load(fh).get("noisy_copies", 0))
    logging.info("robustness: %s", json.dumps(summary))
    write_text_atomic(table.to_pandas().to_csv(sep="\t", index=False), output.table)
    write_json(summary, output.summary)


main(
    snakemake.input.clean,  # noqa: F821
    snakemake.input.noisy,  # noqa: F821
    snakemake.input.noise,  # noqa: F821
    snakemake.input.test_labels,  # noqa: F821
    snakemake.input.folds,  # noqa: F821
    snakemake.output,  # noqa: F821
)
