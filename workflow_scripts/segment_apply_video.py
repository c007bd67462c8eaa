"""Snakemake script of rule segment_apply_video: every speech turn of one video."""

import logging
import os
import subprocess
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.segmentation import segment_video
from merlib.apply.windows import window_shards
from merlib.av.probe import probe_video
from merlib.collect.params import CollectParams
from merlib.errors import VideoLoadingError
from merlib.schemas import APPLY_TURNS, write_table
from merlib.threads import limit_threads

# detection on one thread; the job's threads are the dlib identity workers (processes)
limit_threads(1)


def log_windows(video, turns, window_s, timeout):
    """Turns per time window of apply.window_s (the shards export_apply_clips will cut),
    e.g. ``window 3/12, 00:20:00-00:30:00, 41 turns``."""
    rows = turns.select(["name", "start", "end"]).to_pylist()
    try:
        duration = probe_video(video, timeout=timeout).duration
    except (VideoLoadingError, subprocess.TimeoutExpired):
        duration = max((r["end"] for r in rows), default=0.0)
    listing = window_shards([(r["name"], r["start"]) for r in rows], duration, window_s, 1)
    for shard in listing["shards"]:
        logging.info("%s", shard["progress"])


def main(video, video_id, collect, speaker_similarity, face_distance, workers, out, window_s):
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
    log_windows(video, turns, window_s, params.timeout)
    write_table(turns, out, APPLY_TURNS)


main(
    snakemake.input.video,
    snakemake.wildcards.video,
    snakemake.params.collect,
    snakemake.params.speaker_similarity,
    snakemake.params.face_distance,
    snakemake.threads,
    snakemake.output.turns,
    # for the log only (not a param: a new window length reruns no segmentation)
    float(snakemake.config["apply"]["window_s"]),
)
