"""Snakemake script of rule make_demo_corpus: the synthetic MER2024-layout demo corpus."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821
sys.path.insert(0, os.path.dirname(__file__))

from pathlib import Path  # noqa: E402

from merlib.demo.corpus import make_demo_corpus  # noqa: E402

# INFO: the log says which ffmpeg encodes the corpus and why (merlib.av.ffmpeg)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")

make_demo_corpus(
    Path(snakemake.output.labels).parent,  # noqa: F821
    seed=int(snakemake.params.seed),  # noqa: F821
    clips_per_class=int(snakemake.params.clips_per_class),  # noqa: F821
    unlabelled_clips=int(snakemake.params.unlabelled_clips),  # noqa: F821
    episodes=int(snakemake.params.episodes),  # noqa: F821
    workers=int(snakemake.threads),  # noqa: F821
)
