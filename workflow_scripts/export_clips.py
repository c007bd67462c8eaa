"""Snakemake script of rule export_clips: kept segments of one video cut to mp4."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect import export_clips  # noqa: E402
from merlib.tables import COLLECT_CLIPS, read_table, write_table  # noqa: E402


def main(video, decisions_path, output_root, timeout, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    clips = export_clips(video, read_table(decisions_path, COLLECT_CLIPS), output_root, timeout)
    for row in clips.to_pylist():
        if row["clip"] or row["kept"]:
            logging.info("%s -> %s", row["name"], row["clip"])
    write_table(clips, out, COLLECT_CLIPS)


main(
    snakemake.input.video,  # noqa: F821
    snakemake.input.decisions,  # noqa: F821
    snakemake.params.output_root,  # noqa: F821
    snakemake.params.timeout,  # noqa: F821
    snakemake.output.clips,  # noqa: F821
)
