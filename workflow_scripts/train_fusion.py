"""Snakemake script of rule train_fusion: cross-validated attention fusion on labelled clips."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import torch

from merlib.apply.card import build_card, write_card
from merlib.fusion.dataset import FeatureSources
from merlib.fusion.params import FusionParams
from merlib.fusion.prediction import save_checkpoint
from merlib.fusion.training import train_on_manifest
from merlib.labels import label_set
from merlib.metrics import summarise, write_json
from merlib.schemas import oof_schema, write_table


def main(labels, manifest, features, specs, sources, fusion, seed, selected, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    params = FusionParams.from_config(fusion, seed=seed)
    seed_offset = 0
    if selected:  # the random search's best combination replaces the configured values
        with open(selected, encoding="utf-8") as fh:
            best = json.load(fh)
        if list(best["features"]) != list(features):
            raise ValueError(f"{selected}: searched on {best['features']}, not on {features}")
        params = FusionParams(**best["params"])
        seed_offset = int(best["seed_offset"])
        logging.info("search combination %d (WAF %.4f)", best["combination"], best["waf"])
    logging.info("features %s, %s, seed offset %d", ", ".join(features), params, seed_offset)
    if sources.noisy is not None:
        logging.info("noise augmentation: the noisy copies of the training clips join each fold")
    device = fusion.get("device", "auto")
    run = train_on_manifest(manifest, sources, features, params, seed_offset, device, labels)
    for row in run.excluded:
        logging.info("excluded %s: %s", row["name"], row["reason"])
    cv = summarise(run.cv.folds)
    logging.info(
        "%d clips (%d excluded): WAF %.4f +- %.4f, accuracy %.4f +- %.4f (mean +- std over folds)",
        run.oof.num_rows,
        len(run.excluded),
        cv["waf"],
        cv["std"]["waf"],
        cv["acc"],
        cv["std"]["acc"],
    )
    save_checkpoint(run.cv.checkpoint, output.model)
    write_table(run.oof, output.oof, oof_schema(labels))
    write_json(run.record, output.folds)
    # the card says what applying the model needs (merlib.apply.card, docs/apply.md)
    write_card(build_card(run.cv.checkpoint, specs, manifest), output.card)


main(
    label_set(snakemake.params.labels),
    snakemake.input.manifest,
    list(snakemake.params.features),
    {k: dict(v) for k, v in snakemake.params.specs.items()},
    FeatureSources.from_inputs(snakemake.input, snakemake.params.features),
    dict(snakemake.params.fusion),
    snakemake.params.seed,
    snakemake.input.get("selected") or None,
    snakemake.threads,
    snakemake.output,
)
