"""Snakemake script of rule cut_segments: candidate segments of one long video."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect.params import CollectParams  # noqa: E402
from merlib.collect.turns import cut_segments  # noqa: E402
from merlib.schemas import COLLECT_SEGMENTS, write_table  # noqa: E402
from merlib.threads import limit_threads  # noqa: E402

limit_threads(snakemake.threads)  # noqa: F821


def main(video, subtitle, collect, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = CollectParams.from_config(collect)
    logging.info("%s (subtitle: %s), %s", video, subtitle, params)
    segments = cut_segments(video, params, subtitle)
    for row in segments.to_pylist():
        logging.info("%s %.3f-%.3f %s", row["name"], row["start"], row["end"], row["reason"] or "")
    write_table(segments, out, COLLECT_SEGMENTS)


main(
    snakemake.input.video,  # noqa: F821
    snakemake.input.get("subtitle"),  # noqa: F821
    snakemake.params.collect,  # noqa: F821
    snakemake.output.segments,  # noqa: F821
)
