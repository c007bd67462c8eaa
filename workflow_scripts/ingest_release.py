"""Snakemake script of rule ingest_release: clip manifest and findings of a MER2024 folder."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.ingest import ingest_release
from merlib.labels import label_set
from merlib.schemas import INGEST_REJECTS, MANIFEST, write_table


def main(labels, data_root, n_shards, manifest_path, rejects_path):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    result = ingest_release(data_root, n_shards, labels)
    for note in result.notes:
        logging.info(note)
    excluded = sum(result.findings.column("excluded").to_pylist())
    logging.info(
        "%d clips in the manifest, %d findings (%d clips or rows excluded)",
        result.manifest.num_rows,
        result.findings.num_rows,
        excluded,
    )
    for row in result.findings.to_pylist():
        logging.info("%s [%s] %s", row["name"], row["split"], row["reason"])
    write_table(result.findings, rejects_path, INGEST_REJECTS)
    write_table(result.manifest, manifest_path, MANIFEST)


main(
    label_set(snakemake.params.labels),
    snakemake.params.data_root,
    snakemake.params.shards,
    snakemake.output.manifest,
    snakemake.output.rejects,
)
