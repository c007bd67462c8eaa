"""Snakemake script of rule cut_segments: candidate segments of one long video."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect.params import CollectParams
from merlib.collect.turns import cut_segments
from merlib.schemas import COLLECT_SEGMENTS, write_table
from merlib.threads import limit_threads

limit_threads(snakemake.threads)


def main(video, subtitle, collect, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = CollectParams.from_config(collect)
    logging.info("%s (subtitle: %s), %s", video, subtitle, params)
    segments = cut_segments(video, params, subtitle)
    for row in segments.to_pylist():
        logging.info("%s %.3f-%.3f %s", row["name"], row["start"], row["end"], row["reason"] or "")
    write_table(segments, out, COLLECT_SEGMENTS)


main(
    snakemake.input.video,
    snakemake.input.get("subtitle"),
    snakemake.params.collect,
    snakemake.output.segments,
)
