"""Snakemake script of rule transcribe_clips: a transcript for every clip of one shard."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))


from merlib.schemas import AUDIO, MANIFEST, TRANSCRIPTS, read_table, write_table  # noqa: E402
from merlib.shards import shard_clips  # noqa: E402
from merlib.transcripts import (  # noqa: E402
    TranscriptParams,
    built_on_first_use,
    source_counts,
    transcribe_shard,
)


def main(manifest_path, audio_path, shard, settings, model_cache, threads, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = TranscriptParams(**settings)
    manifest = read_table(manifest_path, MANIFEST)
    clips = shard_clips(manifest, shard, "transcribe").to_pylist()
    audio = recognise = None
    if params.asr:
        from merlib.whisper import Transcriber

        audio = read_table(audio_path, AUDIO)
        recognise = built_on_first_use(
            lambda: (
                Transcriber(
                    params.model,
                    model_cache,
                    params.language,
                    threads,
                    device=params.device,
                    compute_type=params.compute_type,
                    beam_size=params.beam_size,
                ).transcribe
            )
        )
    logging.info("shard %s: %d clips, %s", shard, len(clips), params)
    table = transcribe_shard(clips, audio, params, recognise)
    for row in table.to_pylist():
        if row["reason"]:
            logging.info("%s: empty text: %s", row["name"], row["reason"])
    logging.info("text sources: %s", source_counts(table))
    write_table(table, out, TRANSCRIPTS)


main(
    snakemake.input.manifest,  # noqa: F821
    snakemake.input.get("audio"),  # noqa: F821
    snakemake.wildcards.shard,  # noqa: F821
    dict(snakemake.params.transcripts),  # noqa: F821
    snakemake.params.model_cache,  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output.transcripts,  # noqa: F821
)
