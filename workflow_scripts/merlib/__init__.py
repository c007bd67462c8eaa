"""merflow's library: the logic behind every workflow script, testable without Snakemake."""
