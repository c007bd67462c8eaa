"""Snakemake script of rule group_ov_synonyms: per-clip synonym groupings, computed."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import write_json
from merlib.ov.files import read_openset_csv
from merlib.ov.groupings import EncoderGrouper, compute_groupings
from merlib.ov.lexicon import lexicon_grouping, load_lexicon


def make_grouper(grouping, params):
    if grouping == "lexicon":
        lexicon = load_lexicon(params.lexicon)
        return lambda words: lexicon_grouping(words, lexicon)
    if grouping == "encoder":
        return EncoderGrouper(float(params.encoder_threshold))
    from merlib.llm import ChatClient, LLMConfig, llm_grouping

    client = ChatClient(LLMConfig.from_config(params.llm))
    return lambda words: llm_grouping(client, words)


def main(grouping, gt, pred, params, output):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    groupings = compute_groupings(
        read_openset_csv(gt, allow_empty=False),
        read_openset_csv(pred),
        make_grouper(grouping, params),
    )
    logging.info("%s: groupings of %d clips", grouping, len(groupings))
    write_json(groupings, output)


main(
    snakemake.wildcards.grouping,
    snakemake.input.gt,
    snakemake.input.pred,
    snakemake.params,
    snakemake.output.groupings,
)
