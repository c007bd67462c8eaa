"""Snakemake script of rule predict_unlabelled: fused predictions for the unlabelled pool."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402

from merlib.fusion.dataset import FeatureSources  # noqa: E402
from merlib.fusion.prediction import load_checkpoint, predict_manifest  # noqa: E402
from merlib.fusion.submission import write_submission  # noqa: E402
from merlib.schemas import FALLBACKS, PREDICTIONS, write_table  # noqa: E402


def main(manifest, model, sources, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    checkpoint = load_checkpoint(model)
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
    write_table(run.predictions, output.predictions, PREDICTIONS)
    write_table(run.fallbacks, output.fallbacks, FALLBACKS)
    write_submission(run.predictions, output.submission)


main(
    snakemake.input.manifest,  # noqa: F821
    snakemake.input.model,  # noqa: F821
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output,  # noqa: F821
)
