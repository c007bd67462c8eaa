"""Snakemake script of rule make_demo_corpus: the synthetic MER2024-layout demo corpus."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from pathlib import Path

from merlib.demo.corpus import make_demo_corpus

# INFO: the log says which ffmpeg encodes the corpus and why (merlib.av.ffmpeg)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")

make_demo_corpus(
    Path(snakemake.output.labels).parent,
    seed=int(snakemake.params.seed),
    clips_per_class=int(snakemake.params.clips_per_class),
    unlabelled_clips=int(snakemake.params.unlabelled_clips),
    episodes=int(snakemake.params.episodes),
    workers=int(snakemake.threads),
)
