"""Snakemake script of rule account_clips: what became of every clip, in one table."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.accounting import (
    account_clips,
    status_counts,
    text_source_counts,
    text_sources,
)
from merlib.fusion.dataset import input_files
from merlib.schemas import (
    ACCOUNTING,
    FALLBACKS,
    FEATURE_FLAGS,
    FEATURE_REJECTS,
    INGEST_REJECTS,
    MANIFEST,
    MEDIA_REJECTS,
    TRANSCRIPTS,
    read_table,
    write_table,
)


def main(inputs, features, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    feature_reject_files = input_files(inputs, "rejects", features)
    feature_flag_files = input_files(inputs, "flags", features)
    with open(inputs.folds, encoding="utf-8") as fh:
        excluded = json.load(fh).get("excluded", [])
    table = account_clips(
        read_table(inputs.manifest, MANIFEST),
        read_table(inputs.ingest_rejects, INGEST_REJECTS),
        [read_table(p, MEDIA_REJECTS) for p in inputs.media_rejects],
        {f: [read_table(p, FEATURE_REJECTS) for p in ps] for f, ps in feature_reject_files.items()},
        excluded,
        read_table(inputs.fallbacks, FALLBACKS),
        {f: [read_table(p, FEATURE_FLAGS) for p in ps] for f, ps in feature_flag_files.items()},
        text_sources(read_table(p, TRANSCRIPTS) for p in inputs.transcripts),
    )
    logging.info("clips by split and status: %s", json.dumps(status_counts(table)))
    logging.info("texts by source: %s", json.dumps(text_source_counts(table)))
    write_table(table, output.accounting, ACCOUNTING)


main(
    snakemake.input,
    list(snakemake.params.features),
    snakemake.output,
)
