"""Snakemake script of rule export_apply_clips (a checkpoint): each usable turn of one
video cut to a clip, the manifest of those clips, and the list of its shards (time
windows) that the per-shard jobs are planned from."""

import logging
import os
import subprocess
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.apply.clips import export_turns
from merlib.apply.windows import window_shards, write_shards
from merlib.av.probe import probe_video
from merlib.errors import VideoLoadingError
from merlib.schemas import APPLY_TURNS, MANIFEST, read_table, write_table


def duration_of(video, timeout):
    """The video's duration, None when it cannot be probed (its turns' starts then bound it)."""
    try:
        return probe_video(video, timeout=timeout).duration
    except (VideoLoadingError, subprocess.TimeoutExpired):
        return None


def main(video, turns_path, clips_root, shards, window_s, timeout, workers, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    turns = read_table(turns_path, APPLY_TURNS)
    turns, manifest = export_turns(video, turns, clips_root, shards, timeout, workers, window_s)
    logging.info(
        "%d turns, %d cut to clips under %s", turns.num_rows, manifest.num_rows, clips_root
    )
    for row in turns.to_pylist():
        if not row["usable"]:
            logging.info("%s not cut: %s", row["name"], row["note"])
    starts = {r["name"]: r["start"] for r in turns.select(["name", "start"]).to_pylist()}
    clips = [(name, starts[name]) for name in manifest.column("name").to_pylist()]
    listing = window_shards(clips, duration_of(video, timeout), window_s, shards)
    logging.info(
        "%d windows of %g s, %d shards with clips",
        listing["windows"],
        window_s,
        sum(s["clips"] > 0 for s in listing["shards"]),
    )
    for shard in listing["shards"]:
        logging.info("shard %s: %s", shard["shard"], shard["progress"])
    write_table(manifest, out.manifest, MANIFEST)
    write_table(turns, out.turns, APPLY_TURNS)
    write_shards(listing, out.shards)


main(
    snakemake.input.video,
    snakemake.input.turns,
    snakemake.params.clips_root,
    snakemake.params.shards,
    snakemake.params.window_s,
    snakemake.params.timeout,
    snakemake.threads,
    snakemake.output,
)
