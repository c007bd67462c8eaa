"""Snakemake script of rule check_asr: ASR on a sample of labelled clips with a release
transcription, compared with that transcription (CER with its interval, worst clips)."""

import json
import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow as pa
import pyarrow.compute as pc

from merlib.asr_check import cer_summary, check_clips, check_sample, worst_first
from merlib.atomic import write_text_atomic
from merlib.schemas import ASR_CHECK, AUDIO, MANIFEST, read_table, write_table
from merlib.transcripts import TranscriptParams, built_on_first_use, make_recogniser


def main(manifest_path, audio_paths, shard_ids, settings, model_cache, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = TranscriptParams(**settings)
    n = params.asr_check if params.asr else 0
    columns = ["name", "split", "transcription", "shard"]
    clips = read_table(manifest_path, MANIFEST).select(columns).to_pylist()
    sample = check_sample(clips, n)
    logging.info(
        "asr_check %d (asr %s): %d labelled clips with a release text checked",
        params.asr_check,
        params.asr,
        len(sample),
    )
    paths = dict(zip(shard_ids, audio_paths, strict=True))

    def audio_of(shard, names):
        if shard not in paths:
            return None
        audio = read_table(paths[shard], AUDIO)
        return audio.filter(pc.is_in(audio.column("name"), pa.array(names, pa.string())))

    recognise = built_on_first_use(lambda: make_recogniser(params, model_cache, threads))
    table = check_clips(sample, audio_of, params, recognise)
    summary = cer_summary(table, params, n)
    logging.info("CER %s over %d clips: %s", summary["cer"], table.num_rows, summary)
    write_table(table, output.clips, ASR_CHECK)
    write_text_atomic(
        worst_first(table).to_pandas().to_csv(sep="\t", index=False, float_format="%.4f"),
        output.table,
    )
    write_text_atomic(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", output.summary)


main(
    snakemake.input.manifest,
    list(snakemake.input.get("audio", [])),
    list(snakemake.params.shard_ids),
    dict(snakemake.params.transcripts),
    snakemake.params.model_cache,
    snakemake.threads,
    snakemake.output,
)
