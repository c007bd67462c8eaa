# merflow: MER2024 multimodal emotion recognition, from raw video to leaderboard files.
import os

import yaml

from snakemake.utils import min_version, update_config

min_version("9.0")

# This Snakefile's folder, also when another workflow uses merflow as a module (where
# workflow.basedir is that workflow's folder).
MERFLOW_DIR = os.path.dirname(os.path.abspath(workflow.snakefile))


# The embedded default, found beside this Snakefile from any working directory
# (snakemake --directory DIR); a user's --configfile overlays it.
configfile: os.path.join(MERFLOW_DIR, "config.yaml")


# As a module (`module merflow: config: ...`, docs/running.md) Snakemake skips the line
# above: the config given then overlays the same defaults, as --configfile does.
with open(os.path.join(MERFLOW_DIR, "config.yaml"), encoding="utf-8") as _f:
    _config = yaml.safe_load(_f)
update_config(_config, config)
config.update(_config)


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/ingest.smk"
include: "rules/media.smk"
include: "rules/transcripts.smk"
include: "rules/features.smk"
include: "rules/search.smk"
include: "rules/fusion.smk"
include: "rules/evaluate.smk"
include: "rules/ov.smk"
include: "rules/noise.smk"
include: "rules/tables.smk"
include: "rules/collect.smk"
include: "rules/common_apply.smk"
include: "rules/apply.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        get_final_outputs(),
        get_ov_outputs(),
        get_collect_outputs(),
        get_report_outputs(),


rule apply:
    """Emotion timelines of every video in apply.videos_dir (docs/apply.md)."""
    input:
        get_apply_outputs(),


rule paper_tables:
    """The Table 3/4-style tables over every configured encoder (opt-in: tables.enabled)."""
    input:
        get_paper_tables(),
