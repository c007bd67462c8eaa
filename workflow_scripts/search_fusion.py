"""Snakemake script of rule search_fusion: cross-validate one combination of the random search."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402

from merlib.fusion.dataset import FeatureSources  # noqa: E402
from merlib.fusion.params import FusionParams  # noqa: E402
from merlib.metrics import write_json  # noqa: E402
from merlib.search import run_combination  # noqa: E402


def main(manifest, features, sources, fusion, seed, combination, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, int(threads)))
    base = FusionParams.from_config(fusion, seed=seed)
    logging.info("combination %s on features %s", combination, ", ".join(features))
    device = fusion.get("device", "auto")
    record = run_combination(manifest, sources, features, base, combination, device)
    logging.info("WAF %.4f +- %.4f", record["waf"], record["std"]["waf"])
    write_json(record, output.record)


main(
    snakemake.input.manifest,  # noqa: F821
    list(snakemake.params.features),  # noqa: F821
    FeatureSources.from_params(snakemake.params),  # noqa: F821
    dict(snakemake.params.fusion),  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    dict(snakemake.params.combination),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output,  # noqa: F821
)
