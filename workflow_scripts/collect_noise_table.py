"""Snakemake script of rule collect_noise_table: one noise table, rejects and the noisy
copy's manifest from the per-shard tables."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow as pa

from merlib.noise.manifest import noisy_manifest
from merlib.schemas import MANIFEST, NOISE, NOISE_REJECTS, read_table, write_table


def main(manifest, tables, rejects, clips_root, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    noise = pa.concat_tables([read_table(p, NOISE) for p in tables]).sort_by("name")
    rejected = pa.concat_tables([read_table(p, NOISE_REJECTS) for p in rejects]).sort_by("name")
    noisy = noisy_manifest(read_table(manifest, MANIFEST), noise, clips_root)
    rescaled = sum(noise.column("rescaled").to_pylist())
    logging.info(
        "%d noisy clips (%d rescaled to fit int16), %d rejected",
        noise.num_rows,
        rescaled,
        rejected.num_rows,
    )
    write_table(rejected, out.rejects, NOISE_REJECTS)
    write_table(noisy, out.manifest, MANIFEST)
    write_table(noise, out.table, NOISE)


main(
    snakemake.input.manifest,
    list(snakemake.input.tables),
    list(snakemake.input.rejects),
    snakemake.params.clips_root,
    snakemake.output,
)
