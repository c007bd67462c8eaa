"""Snakemake script of rule split_search_job: one combination's record out of its job's file."""

import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

from merlib.metrics import write_json
from merlib.search import job_record

combination = int(snakemake.params.combination["combination"])
write_json(job_record(snakemake.input.records, combination), snakemake.output.record)
