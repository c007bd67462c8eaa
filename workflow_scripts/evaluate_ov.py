"""Snakemake script of rule evaluate_ov: the challenge's set-level accuracy and recall."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.atomic import write_text_atomic
from merlib.metrics import write_json
from merlib.ov.files import load_groupings, read_openset_csv
from merlib.ov.scoring import evaluate_openset


def main(gt, pred, synonyms, grouping, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    metrics, per_clip = evaluate_openset(
        read_openset_csv(gt, allow_empty=False),
        read_openset_csv(pred),
        load_groupings(synonyms),
        grouping,
    )
    if metrics["unknown_predictions"]:
        logging.warning(
            "%s: %d predictions name clips outside the ground truth %s (not scored): %s",
            pred,
            len(metrics["unknown_predictions"]),
            gt,
            ", ".join(metrics["unknown_predictions"][:20]),
        )
    logging.info("metrics: %s", json.dumps(metrics, ensure_ascii=False))
    write_json(metrics, output.metrics)
    write_text_atomic(per_clip.to_csv(sep="\t", index=False), output.per_clip)


main(
    snakemake.input.gt,
    snakemake.input.pred,
    snakemake.input.synonyms,
    snakemake.params.grouping,
    snakemake.output,
)
