"""Snakemake script of rule make_demo_noise: synthetic speech standing in for MUSAN's
speech subset, so that the demo shows MER-NOISE without a download."""

import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821
sys.path.insert(0, os.path.dirname(__file__))

from merlib.demo.noise_speech import make_noise_speech  # noqa: E402

make_noise_speech(
    snakemake.output.speech,  # noqa: F821
    seed=int(snakemake.params.seed),  # noqa: F821
    n_files=int(snakemake.params.n_files),  # noqa: F821
)
