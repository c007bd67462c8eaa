"""Snakemake script of rule render_report_summary: the report's summary page and the
headline block of its landing page."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import write_text_atomic  # noqa: E402
from merlib.report import headline_fragment, summary_page  # noqa: E402
from merlib.schemas import ACCOUNTING, read_table  # noqa: E402


def read_json(path):
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def main(inputs, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    summary = read_json(inputs.summary)
    robustness = read_json(inputs.get("robustness"))
    ov = read_json(inputs.get("ov"))
    accounting = read_table(inputs.accounting, ACCOUNTING)
    write_text_atomic(summary_page(summary, accounting, robustness, ov), output.page)
    write_text_atomic(headline_fragment(summary, robustness, ov, accounting), output.headline)
    logging.info("wrote %s and %s", output.page, output.headline)


main(snakemake.input, snakemake.output)  # noqa: F821
