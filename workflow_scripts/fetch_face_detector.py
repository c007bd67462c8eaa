"""Snakemake script of rule fetch_face_detector: the YuNet ONNX from a URL, sha256-checked."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.collect.export import fetch_checked


def main(url, sha256, out):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    fetch_checked(url, sha256, out)
    logging.info("%s -> %s (sha256 %s)", url, out, sha256)


main(
    snakemake.params.url,
    snakemake.params.sha256,
    snakemake.output.model,
)
