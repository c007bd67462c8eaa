"""The workflow on a real (single-node) SLURM cluster through ``--profile profiles/slurm``.

tests/slurm/cluster.sh installs and starts the cluster (root on Debian); elsewhere these
tests are skipped with the reason. `pytest -k slurm` selects them.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from e2e_helpers import REPO, assert_runs_equal, config_args, failed, snakemake

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
SLURM_ARGS = (
    "--profile",
    str(REPO / "profiles" / "slurm"),
    # profiles/default (2 cores, a 20 GB memory cap) is for local runs only
    "--workflow-profile",
    "none",
    # a one-node test cluster answers at once: poll it more often than a real one
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "2",
    # the default encoders need no GPU; one rule asks for one so that a GPU request goes
    # through sbatch to the cluster's (fake) GPU gres
    "--set-resources",
    "train_fusion:gpu=1",
)
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: .*/rule_(\w+)/")

pytestmark = [pytest.mark.e2e, pytest.mark.slurm]


def cluster(command: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLUSTER), command], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("the SLURM test cluster needs root (cluster.sh installs and starts daemons)")
    if not Path("/etc/debian_version").is_file():
        pytest.skip("the SLURM test cluster needs Debian (cluster.sh installs with apt-get)")
    already_running = cluster("status").returncode == 0
    proc = cluster("start")
    if proc.returncode != 0:
        pytest.skip(f"the SLURM test cluster could not start: {proc.stderr[-2000:]}")
    yield
    if not already_running:
        cluster("stop", timeout=120)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, release_config, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm")
    start = time.monotonic()
    proc = snakemake(workdir, *config_args(release_config), *SLURM_ARGS)
    wall_s = time.monotonic() - start
    assert proc.returncode == 0, failed(proc)
    jobs = [(int(j), rule) for j, rule in SUBMITTED.findall(proc.stdout + proc.stderr)]
    print(f"\nSLURM run: {wall_s:.0f} s wall, {len(jobs)} jobs submitted with sbatch")
    return workdir, jobs, proc.stdout + proc.stderr


def job_table(log: str) -> dict[str, int]:
    """Snakemake's 'Job stats' table: rule -> number of jobs."""
    table = log.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_slurm_every_job_but_the_target_goes_through_sbatch(slurm_run):
    _, jobs, log = slurm_run
    expected = {rule: n for rule, n in job_table(log).items() if rule != "all"}
    submitted: dict[str, int] = {}
    for _, rule in jobs:
        submitted[rule] = submitted.get(rule, 0) + 1
    assert submitted == expected


def test_slurm_cluster_ran_each_submitted_job_to_completion(slurm_run):
    _, jobs, _ = slurm_run
    ids = ",".join(str(j) for j, _ in jobs)
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ids, "-o", "%i %T"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    states = dict(line.split() for line in out.splitlines())
    assert states == {str(j): "COMPLETED" for j, _ in jobs}


def test_slurm_gpu_rules_were_given_the_gpu(slurm_run):
    _, jobs, _ = slurm_run
    gpu_rules = {"train_fusion"}
    for job_id, rule in jobs:
        info = subprocess.run(
            ["scontrol", "show", "job", str(job_id)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        asked = "gres/gpu" in info or "gpu:1" in info
        assert asked == (rule in gpu_rules), (rule, info)


def test_slurm_outputs_equal_a_local_run(slurm_run, reference_run):
    workdir, _, _ = slurm_run
    compared = assert_runs_equal(workdir, reference_run)
    assert any("features" in c for c in compared) and len(compared) > 10
