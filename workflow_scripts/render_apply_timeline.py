"""Snakemake script of rule render_apply_timeline: the timeline's picture and subtitles."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.plot import plot_timeline  # noqa: E402
from merlib.apply.srt import timeline_srt  # noqa: E402
from merlib.collect.export import write_text  # noqa: E402
from merlib.schemas import APPLY_TIMELINE, read_table  # noqa: E402


def main(timeline_path, video, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    timeline = read_table(timeline_path, APPLY_TIMELINE)
    plot_timeline(timeline, out.png, title=video)
    write_text(out.srt, timeline_srt(timeline))
    logging.info("%d turns drawn to %s and %s", timeline.num_rows, out.png, out.srt)


main(
    snakemake.input.timeline,  # noqa: F821
    snakemake.wildcards.video,  # noqa: F821
    snakemake.output,  # noqa: F821
)
