"""Snakemake script of rule predict_ov_llm: the paper's two-step LLM baseline (a server)."""

import logging
import os
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd

from merlib.atomic import write_text_atomic
from merlib.llm import ChatClient, LLMConfig, predict_openset_llm
from merlib.ov.files import write_openset_csv
from merlib.schemas import MANIFEST, OV_REJECTS, read_table, table_from_rows, write_table


def main(manifest, llm, data_root, threads, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    client = ChatClient(LLMConfig.from_config(llm))
    clips = [
        (r["name"], Path(data_root) / r["path"], r["transcription"])
        for r in read_table(manifest, MANIFEST).to_pylist()
        if r["split"] == "unlabeled"
    ]
    logging.info("%d unlabelled clips, %s, %s", len(clips), llm["modality"], client.endpoint)
    words, descriptions, rejects = predict_openset_llm(clips, client, llm["modality"], threads)
    logging.info("%d requests sent, %d clips rejected", client.requests_sent, len(rejects))
    write_table(table_from_rows(rejects, OV_REJECTS), output.rejects, OV_REJECTS)
    text = pd.DataFrame(sorted(descriptions.items()), columns=["name", "description"])
    write_text_atomic(text.to_csv(index=False), output.descriptions)
    write_openset_csv(words, output.openset)


main(
    snakemake.input.manifest,
    snakemake.params.llm,
    snakemake.params.data_root,
    snakemake.threads,
    snakemake.output,
)
