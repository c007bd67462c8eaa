"""bench/gpu_benchmark.py's stages beyond the encoders (peak, media, ASR, the search on the
device stream) and its FLOP counting, on the CPU with --tiny."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import gpu_benchmark  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_flops_are_counted_by_torchs_formulas_also_under_inference_mode():
    a, b = torch.randn(3, 5), torch.randn(5, 7)
    linear = torch.nn.Linear(5, 7)

    def run():
        with torch.inference_mode():
            a @ b
            linear(a)

    assert gpu_benchmark.count_flops(run) == 2 * (2 * 3 * 5 * 7)


def test_tiny_run_prints_every_stage_with_peak_memory_and_hours():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu_benchmark.py"), "--tiny", "--strict",
         "--device", "cpu", "--clips", "3", "--stages", "media,asr,search"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "measured matrix peak" in out and "float32 512^3" in out
    assert "FAILED" not in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "Whisper-large-v3 shape" in lines["ASR"] and "4 tokens per clip" in lines["ASR"]
    assert "extract_media" in lines["media"]
    search = [line for line in out.splitlines() if line.startswith("search ")]
    assert len(search) == 2 and all("s for the search" in line for line in search)
    assert "combinations_per_job: all" in search[0]
    assert "GPU-hours for 120,625 clips" in out


def test_unknown_stage_is_refused_naming_the_choices():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu_benchmark.py"), "--tiny", "--stages", "gpu"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "media,asr,hubert,clip,llm,search" in proc.stderr
