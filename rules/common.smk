import os
import sys
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

sys.path.insert(0, os.path.join(workflow.basedir, "workflow_scripts"))
from merlib.shards import shard_ids  # noqa: E402

SHARDS = shard_ids(config["shards"])
FEATURES = config["features"]
FUSION_FEATURES = config["fusion"]["features"]
DATA_ROOT = os.path.normpath(config["data_root"])
DEMO_ROOT = os.path.normpath(config["demo"]["root"])
RELEASE_CSVS = ("label-disdim.csv", "label-transcription.csv")
RELEASE_DIRS = ("video-labeled", "video-unlabeled-with-test2noise")

for _name in FUSION_FEATURES:
    if _name not in FEATURES:
        raise ValueError(
            f"fusion.features names {_name!r}, which is not a key of 'features' "
            f"(known: {', '.join(FEATURES)}). Please check your config."
        )


wildcard_constraints:
    shard=r"\d+",
    feature=r"[A-Za-z0-9_-]+",


def is_demo():
    """True when data_root is the demo corpus the workflow makes itself."""
    return DATA_ROOT == DEMO_ROOT


def get_release_inputs(wildcards=None):
    """The release files ingest reads; a clear error when data_root is not a release."""
    if is_demo():
        return {
            "labels": f"{DEMO_ROOT}/label-disdim.csv",
            "transcriptions": f"{DEMO_ROOT}/label-transcription.csv",
        }
    if not os.path.isdir(DATA_ROOT):
        raise ValueError(
            f"data_root {DATA_ROOT!r} is not a folder. Please point data_root at a "
            "MER2024-layout folder (video-labeled/, label-disdim.csv, ...)."
        )
    inputs = {}
    for key, name in zip(("labels", "transcriptions"), RELEASE_CSVS):
        path = os.path.join(DATA_ROOT, name)
        if not os.path.isfile(path):
            raise ValueError(
                f"No {name} found in data_root {DATA_ROOT!r}. Please check it."
            )
        inputs[key] = path
    # Folders as inputs: adding or removing a video changes their modification time.
    for key, name in zip(("labeled", "unlabeled"), RELEASE_DIRS):
        path = os.path.join(DATA_ROOT, name)
        if os.path.isdir(path):
            inputs[key] = path
    return inputs


def get_test_labels():
    """Labels of the unlabelled pool, when known (the demo corpus knows its own)."""
    path = config["evaluate"]["test_labels"]
    if path:
        return path
    if is_demo():
        return f"{DEMO_ROOT}/test-labels.csv"
    return []


def get_feature_files(feature):
    return expand(
        "results/features/{feature}/{shard}.parquet", feature=feature, shard=SHARDS
    )


def get_fusion_feature_files():
    """Feature name -> its shard files, for the features fusion uses."""
    return {name: get_feature_files(name) for name in FUSION_FEATURES}


def get_fusion_feature_reject_files():
    """Feature name -> its shard rejects files, for the features fusion uses."""
    return {
        name: expand(
            "results/feature_rejects/{feature}/{shard}.parquet",
            feature=name,
            shard=SHARDS,
        )
        for name in FUSION_FEATURES
    }


def get_feature_spec(wildcards):
    if wildcards.feature not in FEATURES:
        raise ValueError(
            f"No feature {wildcards.feature!r} in config 'features' "
            f"(known: {', '.join(FEATURES)})."
        )
    return FEATURES[wildcards.feature]


def get_final_outputs():
    return [
        "results/metrics/summary.json",
        "results/predictions/unlabelled.parquet",
        "results/submission/mer2024-semi-noise.csv",
        "results/metrics/accounting.parquet",
        *get_documented_shard_outputs(),
    ]


def get_documented_shard_outputs():
    """Per-shard tables the README documents, as targets of `all`: Snakemake does not
    remake a missing intermediate file whose dependents are up to date, so a feature file
    lost when a rerun was killed (SIGKILL mid-job) would otherwise stay missing."""
    return [
        *expand("results/media/{shard}/rejects.parquet", shard=SHARDS),
        *[f for files in get_fusion_feature_files().values() for f in files],
        *[f for files in get_fusion_feature_reject_files().values() for f in files],
    ]
