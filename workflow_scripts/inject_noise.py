"""Snakemake script of rule inject_noise (and inject_training_noise): the noisy copy of one
shard's clips of one split (evaluation clips: unlabeled; noise augmentation: labeled)."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow.compute as pc

from merlib.noise.corpus import NoiseCorpus
from merlib.noise.params import NoiseParams
from merlib.noise.shard import inject_shard
from merlib.schemas import MANIFEST, NOISE, NOISE_REJECTS, read_table, write_table


def main(manifest_path, shard, split, data_root, musan_dir, noise, threads, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    manifest = read_table(manifest_path, MANIFEST)
    keep = pc.and_(pc.equal(manifest["shard"], shard), pc.equal(manifest["split"], split))
    clips = manifest.filter(keep).select(["name", "path"]).to_pylist()
    params = NoiseParams(
        snr_db=tuple(noise["snr_db"]),
        blur_factors=tuple(noise["blur_factors"]),
        seed=int(noise["seed"]),
        sample_rate=int(noise["sample_rate"]),
        timeout=float(noise["timeout"]),
        replacement=bool(noise.get("replacement", False)),
    )
    corpus = NoiseCorpus.open(musan_dir, sample_rate=params.sample_rate, timeout=params.timeout)
    logging.info(
        "shard %s: %d %s clips, %d noise files in %s, %s",
        shard,
        len(clips),
        split,
        len(corpus.files),
        musan_dir,
        params,
    )
    table, rejects, timings = inject_shard(
        clips, data_root, out.clips, corpus, params, workers=threads
    )
    for row in rejects.to_pylist():
        logging.info("rejected %s: %s", row["name"], row["reason"])
    logging.info(
        "%d noisy clips, %d rejected; seconds: decode %.2f, mix+blur %.2f, encode %.2f",
        table.num_rows,
        rejects.num_rows,
        timings.decode,
        timings.process,
        timings.encode,
    )
    write_table(rejects, out.rejects, NOISE_REJECTS)
    write_table(table, out.table, NOISE)


main(
    snakemake.input.manifest,
    snakemake.wildcards.shard,
    snakemake.params.split,
    snakemake.params.data_root,
    snakemake.input.musan,
    dict(snakemake.params.noise),
    snakemake.threads,
    snakemake.output,
)
