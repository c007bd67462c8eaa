"""merflow's library: the logic behind every workflow script, testable without Snakemake."""

__version__ = "0.1.0"
