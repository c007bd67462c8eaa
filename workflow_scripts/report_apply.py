"""Snakemake script of rule report_apply: the apply run's report page."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.card import read_card
from merlib.apply.report import apply_report
from merlib.atomic import write_text_atomic
from merlib.schemas import APPLY_TIMELINE, read_table


def main(card_path, timeline_paths, videos, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    timelines = {
        v: read_table(p, APPLY_TIMELINE) for v, p in zip(videos, timeline_paths, strict=True)
    }
    page = apply_report(read_card(card_path), timelines, os.path.getmtime(card_path))
    write_text_atomic(page, out)
    logging.info("%d videos in %s", len(timelines), out)


main(
    snakemake.input.card,
    snakemake.input.timelines,
    snakemake.params.videos,
    snakemake.output.report,
)
