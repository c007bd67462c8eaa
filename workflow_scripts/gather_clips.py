"""Snakemake script of rule gather_clips: the clips table and the release CSVs."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow.compute as pc

from merlib.collect.export import clips_table, write_release_csvs
from merlib.schemas import COLLECT_CLIPS, read_table, write_table


def main(parts, labels_csv, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    clips = clips_table([read_table(p, COLLECT_CLIPS) for p in parts])
    kept = pc.sum(clips["kept"]).as_py() or 0
    logging.info("%d candidate segments, %d kept", clips.num_rows, kept)
    write_release_csvs(clips, os.path.dirname(labels_csv))
    write_table(clips, out, COLLECT_CLIPS)


main(
    snakemake.input.exported,
    snakemake.output.labels,
    snakemake.output.clips,
)
