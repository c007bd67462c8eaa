"""Snakemake script of rule predict_unlabelled: fused predictions for the unlabelled pool."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import torch

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.prediction import load_checkpoint, predict_manifest
from merlib.fusion.submission import write_submission
from merlib.labels import label_set
from merlib.schemas import FALLBACKS, predictions_schema, write_table


def main(labels, manifest, model, sources, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    checkpoint = load_checkpoint(model, labels)
    logging.info(
        "model %s: features %s, %d folds",
        model,
        ", ".join(checkpoint["features"]),
        len(checkpoint["folds"]),
    )
    run = predict_manifest(manifest, checkpoint, sources)
    for row in run.fallbacks.to_pylist():
        logging.info("class prior for %s: %s", row["name"], row["reason"])
    logging.info(
        "%d unlabelled clips predicted, %d of them from the class prior",
        run.predictions.num_rows,
        run.fallbacks.num_rows,
    )
    write_table(run.predictions, output.predictions, predictions_schema(labels))
    write_table(run.fallbacks, output.fallbacks, FALLBACKS)
    if "submission" in output.keys():
        # predict_noisy_clips (rules/noise.smk): the noisy copy's CSV, always the supervised
        # model's (the self-trained one does not predict the noisy copy). The challenge
        # submission itself is rule write_submission's (submission.model).
        write_submission(run.predictions, output.submission)


main(
    label_set(snakemake.params.labels),
    snakemake.input.manifest,
    snakemake.input.model,
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),
    snakemake.threads,
    snakemake.output,
)
