"""The search's job layout (search.combinations_per_job), as a dry run plans it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from merlib.search import sample_combinations, search_jobs

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800  # every snakemake call in tests runs under a timeout

pytestmark = pytest.mark.e2e


def _plan(tmp_path: Path, per_job: int) -> str:
    overlay = tmp_path / "search.yaml"
    overlay.write_text(f"search: {{n_combinations: 7, combinations_per_job: {per_job}}}\n")
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "-n", "--directory", str(tmp_path)]
    cmd += ["--configfile", str(REPO / "config.yaml"), str(overlay)]
    cmd += ["--", "results/search/search.tsv"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _outputs(plan: str, rule: str) -> list[str]:
    blocks = re.findall(rf"^(?:local)?rule {rule}:\n((?:    .*\n)+)", plan, flags=re.M)
    return sorted(re.search(r"^    output: (.*)$", b, flags=re.M).group(1) for b in blocks)


def test_one_combination_per_job_keeps_a_job_and_a_record_per_combination(tmp_path):
    plan = _plan(tmp_path, 1)
    expected = [f"results/search/combinations/{i:03d}.json" for i in range(7)]
    assert _outputs(plan, "search_fusion") == expected
    assert "logs/search_fusion/006.log" in plan
    assert _outputs(plan, "split_search_job") == []


def test_several_combinations_per_job_write_the_same_per_combination_records(tmp_path):
    plan = _plan(tmp_path, 3)
    space = yaml.safe_load((REPO / "config.yaml").read_text())["search"]
    jobs = search_jobs(sample_combinations(space, 7, space["seed"]), 3)
    assert len(jobs) < 7
    assert _outputs(plan, "search_fusion") == [
        f"results/search/jobs/{j:03d}.json" for j in range(len(jobs))
    ]
    assert _outputs(plan, "split_search_job") == [
        f"results/search/combinations/{i:03d}.json" for i in range(7)
    ]
