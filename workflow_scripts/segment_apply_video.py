"""Snakemake script of rule segment_apply_video: every speech turn of one video."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.segmentation import segment_video
from merlib.collect.params import CollectParams
from merlib.schemas import APPLY_TURNS, write_table
from merlib.threads import limit_threads

# detection on one thread; the job's threads are the dlib identity workers (processes)
limit_threads(1)


def main(video, video_id, collect, speaker_similarity, face_distance, workers, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    params = CollectParams.from_config(collect)
    logging.info(
        "%s, %s, speaker similarity %s, face distance %s",
        video,
        params,
        speaker_similarity,
        face_distance,
    )
    turns = segment_video(
        video,
        params,
        speaker_similarity,
        workers=workers,
        video_id=video_id,
        face_distance=face_distance,
    )
    for row in turns.to_pylist():
        logging.info(
            "%s %.3f-%.3f %s %s %s",
            row["name"],
            row["start"],
            row["end"],
            row["speaker"],
            row["face_track"] or "-",
            row["note"] or "",
        )
    write_table(turns, out, APPLY_TURNS)


main(
    snakemake.input.video,
    snakemake.wildcards.video,
    snakemake.params.collect,
    snakemake.params.speaker_similarity,
    snakemake.params.face_distance,
    snakemake.threads,
    snakemake.output.turns,
)
