"""Snakemake script of rule extract_media: audio and face crops of one shard's clips."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))


from merlib.media.params import MediaParams
from merlib.media.shard import extract_shard
from merlib.schemas import AUDIO, FACES, MANIFEST, MEDIA_REJECTS, read_table, write_table
from merlib.shards import shard_clips
from merlib.threads import limit_threads


def main(manifest_path, shard, data_root, media, threads, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    if snakemake.params.get("progress"):  # apply: the shard's time window
        logging.info("%s", snakemake.params.progress)
    manifest = read_table(manifest_path, MANIFEST)
    clips = shard_clips(manifest, shard, "media")
    params = MediaParams(**media)
    # Clips run on `threads` worker threads; each detection is then single-threaded: yuface's
    # OpenMP, one thread per core otherwise, slows down many times when cores are shared.
    limit_threads(1)
    logging.info("shard %s: %d clips, %s", shard, clips.num_rows, params)
    audio, faces, rejects = extract_shard(clips.to_pylist(), data_root, params, workers=threads)
    for row in rejects.to_pylist():
        logging.info("%s [%s]: %s", row["name"], row["modality"], row["reason"])
    logging.info(
        "audio for %d clips, %d face crops, %d modality rejects",
        audio.num_rows,
        faces.num_rows,
        rejects.num_rows,
    )
    write_table(audio, out.audio, AUDIO)
    write_table(faces, out.faces, FACES)
    write_table(rejects, out.rejects, MEDIA_REJECTS)


main(
    snakemake.input.manifest,
    snakemake.wildcards.shard,
    snakemake.params.data_root,
    snakemake.params.media,
    snakemake.threads,
    snakemake.output,
)
