"""Snakemake script of rule predict_ov_offline: the Empty, Random and fusion baselines."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.ov.baselines import predict_empty, predict_fusion, predict_random
from merlib.ov.files import write_openset_csv
from merlib.schemas import PREDICTIONS, read_table


def main(method, predictions, seed, threshold, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    probs = read_table(predictions, PREDICTIONS).to_pandas()
    names = probs["name"].tolist()
    if method == "empty":
        rows = predict_empty(names)
    elif method == "random":
        rows = predict_random(names, seed)
    else:
        rows = predict_fusion(probs, threshold)
    n_words = sum(len(w) for w in rows.values())
    logging.info("%s: %d clips, %d words", method, len(rows), n_words)
    write_openset_csv(rows, output)


main(
    snakemake.wildcards.method,
    snakemake.input.predictions,
    int(snakemake.params.seed),
    float(snakemake.params.threshold),
    snakemake.output.openset,
)
