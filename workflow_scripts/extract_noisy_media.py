"""Snakemake script of rule extract_noisy_media: rule extract_media's own script, run on the
noisy copy (the rule has the same named inputs, outputs and params, other paths)."""

import os
import runpy

runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "extract_media.py"),
    init_globals={"snakemake": snakemake},  # noqa: F821 (snakemake is injected)
    run_name="__main__",
)
