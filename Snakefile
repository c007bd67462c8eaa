# merflow: MER2024 multimodal emotion recognition, from raw video to leaderboard files.
import os

from snakemake.utils import min_version

min_version("9.0")


# The embedded default, found beside this Snakefile from any working directory
# (snakemake --directory DIR); a user's --configfile overlays it.
configfile: os.path.join(workflow.basedir, "config.yaml")


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
