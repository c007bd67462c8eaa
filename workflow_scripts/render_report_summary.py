"""Snakemake script of rule render_report_summary: the report's summary page and the
headline block of its landing page."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import write_text_atomic
from merlib.provenance import manifest_sha256
from merlib.report import headline_fragment, summary_page
from merlib.schemas import ACCOUNTING, MANIFEST, read_table


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
    data_digest = manifest_sha256(read_table(inputs.manifest, MANIFEST))
    pictures = {}
    for key in ("confusion", "per_class_f1"):
        with open(inputs[key], "rb") as fh:
            pictures[key] = fh.read()
    write_text_atomic(summary_page(summary, accounting, robustness, ov), output.page)
    first = headline_fragment(summary, robustness, ov, accounting, pictures, data_digest)
    write_text_atomic(first, output.headline)
    logging.info("wrote %s and %s", output.page, output.headline)


main(snakemake.input, snakemake.output)
