"""Snakemake script of rule make_demo_noise: synthetic speech standing in for MUSAN's
speech subset, so that the demo shows MER-NOISE without a download."""

import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.demo.noise_speech import make_noise_speech

make_noise_speech(
    snakemake.output.speech,
    seed=int(snakemake.params.seed),
    n_files=int(snakemake.params.n_files),
)
