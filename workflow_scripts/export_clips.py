"""Snakemake script of rule export_clips: kept segments of one video cut to mp4."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect.export import export_clips
from merlib.schemas import COLLECT_CLIPS, read_table, write_table


def main(video, decisions_path, output_root, timeout, asr, workers, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    transcribe = None
    if asr["model"]:
        from merlib.whisper import Transcriber

        transcribe = Transcriber(asr["model"], asr["cache_dir"], asr["language"], asr["threads"])
        logging.info("transcribing clips without subtitles with %s", asr)
    decisions = read_table(decisions_path, COLLECT_CLIPS)
    clips = export_clips(video, decisions, output_root, timeout, transcribe, workers)
    for row in clips.to_pylist():
        if row["clip"] or row["kept"]:
            logging.info("%s -> %s %s", row["name"], row["clip"], row["text"] or "")
    write_table(clips, out, COLLECT_CLIPS)


main(
    snakemake.input.video,
    snakemake.input.decisions,
    snakemake.params.output_root,
    snakemake.params.timeout,
    {**snakemake.params.asr, "threads": snakemake.threads},
    snakemake.threads,
    snakemake.output.clips,
)
