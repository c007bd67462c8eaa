"""profiles/slurm, read by Snakemake's own argument parser as `--profile` reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm"


@pytest.fixture(scope="module")
def slurm_args():
    from snakemake.cli import get_argument_parser

    return get_argument_parser(profiles=[str(PROFILE)]).parse_args([])


def test_slurm_profile_submits_with_the_slurm_executor_and_squeue_status(slurm_args):
    assert slurm_args.executor == "slurm"
    # no accounting daemon means no sacct; the plugin's default would then hang
    assert slurm_args.slurm_status_command == "squeue"
    assert slurm_args.rerun_incomplete


def test_slurm_profile_leaves_gpu_requests_to_the_rules(slurm_args):
    # extract_features declares gpu per feature (merlib.features.base.feature_resources): a
    # blanket override here would give every CPU encoder a GPU it never uses
    assert not any(res.get("gpu") is not None for res in slurm_args.set_resources.values())
    assert "gpu" not in slurm_args.default_resources


def test_slurm_profile_leaves_account_and_partition_to_the_user(slurm_args):
    assert "slurm_account" not in slurm_args.default_resources
    assert "slurm_partition" not in slurm_args.default_resources
    text = (PROFILE / "config.yaml").read_text()
    assert "# slurm_account:" in text and "# slurm_partition:" in text
