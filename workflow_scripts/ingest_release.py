"""Snakemake script of rule ingest_release: clip manifest and findings of a MER2024 folder."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

from merlib.ingest import ingest_release  # noqa: E402
from merlib.schemas import INGEST_REJECTS, MANIFEST, write_table  # noqa: E402


def main(data_root, n_shards, manifest_path, rejects_path):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    result = ingest_release(data_root, n_shards)
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
    snakemake.params.data_root,  # noqa: F821
    snakemake.params.shards,  # noqa: F821
    snakemake.output.manifest,  # noqa: F821
    snakemake.output.rejects,  # noqa: F821
)
