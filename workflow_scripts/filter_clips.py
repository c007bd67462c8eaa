"""Snakemake script of rule filter_clips: duration, one-face and one-identity checks."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect.filtering import filter_segments
from merlib.collect.params import CollectParams
from merlib.schemas import COLLECT_CLIPS, COLLECT_SEGMENTS, read_table, write_table
from merlib.threads import limit_threads

# detection on one thread; the job's threads are the dlib identity workers (processes)
limit_threads(1)


def main(video, segments_path, collect, out, workers):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = CollectParams.from_config(collect)
    segments = read_table(segments_path, COLLECT_SEGMENTS)
    decisions, timings = filter_segments(video, segments, params, workers=workers)
    for row in decisions.to_pylist():
        logging.info("%s kept=%s %s", row["name"], row["kept"], row["reason"] or "")
    logging.info("timings: %s", timings)
    write_table(decisions, out, COLLECT_CLIPS)


main(
    snakemake.input.video,
    snakemake.input.segments,
    snakemake.params.collect,
    snakemake.output.decisions,
    snakemake.threads,
)
