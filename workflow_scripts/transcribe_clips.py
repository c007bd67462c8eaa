"""Snakemake script of rule transcribe_clips: a transcript for every clip of one shard."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))


from merlib.schemas import AUDIO, MANIFEST, TRANSCRIPTS, read_table, write_table
from merlib.shards import shard_clips
from merlib.transcripts import (
    TranscriptParams,
    built_on_first_use,
    make_recogniser,
    source_counts,
    transcribe_shard,
)


def main(manifest_path, audio_path, shard, settings, model_cache, threads, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    if snakemake.params.get("progress"):  # apply: the shard's time window
        logging.info("%s", snakemake.params.progress)
    params = TranscriptParams(**settings)
    manifest = read_table(manifest_path, MANIFEST)
    clips = shard_clips(manifest, shard, "transcribe").to_pylist()
    audio = recognise = None
    if params.asr:
        audio = read_table(audio_path, AUDIO)
        recognise = built_on_first_use(lambda: make_recogniser(params, model_cache, threads))
    logging.info("shard %s: %d clips, %s", shard, len(clips), params)
    table = transcribe_shard(clips, audio, params, recognise)
    for row in table.to_pylist():
        if row["reason"]:
            logging.info("%s: empty text: %s", row["name"], row["reason"])
    logging.info("text sources: %s", source_counts(table))
    write_table(table, out, TRANSCRIPTS)


main(
    snakemake.input.manifest,
    snakemake.input.get("audio"),
    snakemake.wildcards.shard,
    dict(snakemake.params.transcripts),
    snakemake.params.model_cache,
    snakemake.threads,
    snakemake.output.transcripts,
)
