"""Snakemake script of rule self_train_fusion: pseudo-labelled pool, supervised folds."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import torch

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.prediction import load_checkpoint
from merlib.fusion.selftrain import self_train
from merlib.labels import label_set
from merlib.metrics import write_json
from merlib.schemas import predictions_schema, write_table


def main(labels, manifest, model, folds, sources, threshold, rounds, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    with open(folds, encoding="utf-8") as fh:
        supervised_folds = json.load(fh)["folds"]
    checkpoint = load_checkpoint(model, labels)
    run = self_train(manifest, sources, checkpoint, supervised_folds, threshold, rounds)
    write_table(run.predictions.predictions, output.predictions, predictions_schema(labels))
    write_json(run.record, output.record)


main(
    label_set(snakemake.params.labels),
    snakemake.input.manifest,
    snakemake.input.model,
    snakemake.input.folds,
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),
    float(snakemake.params.threshold),
    int(snakemake.params.rounds),
    snakemake.threads,
    snakemake.output,
)
