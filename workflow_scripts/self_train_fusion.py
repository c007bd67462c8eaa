"""Snakemake script of rule self_train_fusion: pseudo-labelled pool, supervised folds."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402

from merlib.fusion.dataset import FeatureSources  # noqa: E402
from merlib.fusion.prediction import load_checkpoint  # noqa: E402
from merlib.fusion.selftrain import self_train  # noqa: E402
from merlib.metrics import write_json  # noqa: E402
from merlib.schemas import PREDICTIONS, write_table  # noqa: E402


def main(manifest, model, folds, sources, threshold, rounds, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    with open(folds, encoding="utf-8") as fh:
        supervised_folds = json.load(fh)["folds"]
    run = self_train(manifest, sources, load_checkpoint(model), supervised_folds, threshold, rounds)
    write_table(run.predictions.predictions, output.predictions, PREDICTIONS)
    write_json(run.record, output.record)


main(
    snakemake.input.manifest,  # noqa: F821
    snakemake.input.model,  # noqa: F821
    snakemake.input.folds,  # noqa: F821
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),  # noqa: F821
    float(snakemake.params.threshold),  # noqa: F821
    int(snakemake.params.rounds),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output,  # noqa: F821
)
