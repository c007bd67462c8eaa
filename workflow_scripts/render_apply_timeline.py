"""Snakemake script of rule render_apply_timeline: the timeline's picture, interactive page
and subtitles."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.html import timeline_page
from merlib.apply.plot import plot_timeline
from merlib.apply.srt import timeline_srt
from merlib.atomic import write_text_atomic
from merlib.schemas import APPLY_TIMELINE, read_table


def main(timeline_path, video, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    timeline = read_table(timeline_path, APPLY_TIMELINE)
    plot_timeline(timeline, out.png, title=video)
    write_text_atomic(timeline_page(timeline, video), out.html)
    write_text_atomic(timeline_srt(timeline), out.srt)
    logging.info("%d turns drawn to %s, %s and %s", timeline.num_rows, out.png, out.html, out.srt)


main(
    snakemake.input.timeline,
    snakemake.wildcards.video,
    snakemake.output,
)
