"""Snakemake script of rule predict_noisy_clips: rule predict_unlabelled's own script, run on
the noisy copy (the rule has the same named inputs, outputs and params, other paths)."""

import os
import runpy

runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "predict_unlabelled.py"),
    init_globals={"snakemake": snakemake},  # noqa: F821 (snakemake is injected)
    run_name="__main__",
)
