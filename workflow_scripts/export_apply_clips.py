"""Snakemake script of rule export_apply_clips: each usable turn of one video cut to a
clip, and the manifest of those clips."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.clips import export_turns
from merlib.schemas import APPLY_TURNS, MANIFEST, read_table, write_table


def main(video, turns_path, clips_root, shards, timeout, workers, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    turns = read_table(turns_path, APPLY_TURNS)
    turns, manifest = export_turns(video, turns, clips_root, shards, timeout, workers)
    logging.info(
        "%d turns, %d cut to clips under %s", turns.num_rows, manifest.num_rows, clips_root
    )
    for row in turns.to_pylist():
        if not row["usable"]:
            logging.info("%s not cut: %s", row["name"], row["note"])
    write_table(manifest, out.manifest, MANIFEST)
    write_table(turns, out.turns, APPLY_TURNS)


main(
    snakemake.input.video,
    snakemake.input.turns,
    snakemake.params.clips_root,
    snakemake.params.shards,
    snakemake.params.timeout,
    snakemake.threads,
    snakemake.output,
)
