#!/usr/bin/env bash
# Snakemake runs this after creating envs/collect.yaml: silero-vad (its ONNX VAD model is in
# the wheel) would pull torchaudio and resemblyzer the obsolete `typing` package, so both are
# installed without their declared dependencies (see requirements-nodeps.txt).
set -euo pipefail
python -m pip install --no-deps silero-vad==6.2.3 resemblyzer==0.1.4
