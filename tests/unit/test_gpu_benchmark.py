"""bench/gpu_benchmark.py runs end to end on the CPU with --tiny (no GPU needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gpu_benchmark_tiny_prints_its_table_on_cpu(shared_data):
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu_benchmark.py"), "--tiny", "--device", "cpu"]
        + ["--clips", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for row in ("HuBERT-large", "CLIP ViT-L/14", "Baichuan-13B-shaped", "three encoders"):
        assert row in out
    assert out.count("fusion search") == 2 and "device cpu" in out
