"""Snakemake script of rule predict_apply_turns: the emotion timeline of one video."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow as pa
import torch

from merlib.apply.card import check_checkpoint, check_features, read_card
from merlib.apply.timeline import build_timeline, summarise, write_csv
from merlib.fusion.dataset import FeatureSources, input_files
from merlib.fusion.prediction import load_checkpoint
from merlib.schemas import (
    APPLY_TIMELINE,
    APPLY_TURNS,
    FEATURE_REJECTS,
    MEDIA_REJECTS,
    TRANSCRIPTS,
    read_table,
    write_table,
)


def _concat(paths, schema):
    return pa.concat_tables([read_table(p, schema) for p in paths]) if paths else None


def main(inputs, specs, modalities, threads, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    card = read_card(inputs.card)
    checkpoint = load_checkpoint(inputs.model)
    check_checkpoint(card, checkpoint, where=inputs.card)
    check_features(card, list(checkpoint["features"]), specs, where=inputs.card)
    logging.info("model %s: %s", inputs.model, card)
    features = list(specs)
    sources = FeatureSources.from_inputs(inputs, features)
    reject_files = input_files(inputs, "rejects", features)
    timeline = build_timeline(
        read_table(inputs.turns, APPLY_TURNS),
        inputs.manifest,
        checkpoint,
        sources,
        modalities,
        _concat(list(inputs.transcripts), TRANSCRIPTS),
        _concat(list(inputs.media_rejects), MEDIA_REJECTS),
        {f: _concat(paths, FEATURE_REJECTS) for f, paths in reject_files.items()},
    )
    for row in timeline.to_pylist():
        logging.info(
            "%.2f-%.2f %s %s %s %s",
            row["start"],
            row["end"],
            row["speaker"],
            row["label"],
            row["modalities"],
            row["note"] or "",
        )
    write_table(timeline, out.timeline, APPLY_TIMELINE)
    write_csv(timeline, out.csv)
    write_csv(summarise(timeline), out.summary)


main(
    snakemake.input,
    {k: dict(v) for k, v in snakemake.params.specs.items()},
    dict(snakemake.params.modalities),
    snakemake.threads,
    snakemake.output,
)
