# merflow: `make demo` (set up and run the whole workflow on the demo corpus) and
# `make test` (format checks, lint, unit and end-to-end tests).
SHELL := /bin/bash
.DEFAULT_GOAL := demo

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: demo test install install-dev lint format check-python rulegraph config-docs clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
	  "merflow needs Python 3.11; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11")'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/snakemake --profile profiles/default --cores $(CORES)
	$(BIN)/snakemake --profile profiles/default --report results/report.html
	@echo "Done: results/metrics/summary.json, results/submission/mer2024-semi-noise.csv, results/report.html"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules

test: lint
	$(BIN)/python -m pytest

# docs/rulegraph.yaml switches every optional part on so that all rules are drawn. apply's
# per-shard jobs come after the checkpoint export_apply_clips (a video's time windows are
# known once its turns are cut): one window's text and audio features name them.
rulegraph: install
	$(BIN)/snakemake --rulegraph --configfile config.yaml docs/rulegraph.yaml -- all paper_tables results/ov/predictions/llm.csv apply results/apply/episode_01/features/use_m3/w0000.parquet results/apply/episode_01/features/egemaps/w0000.parquet | dot -Tsvg > docs/rulegraph.svg  # llm, paper_tables: opt-in

# docs/configuration.md is generated from the schema (tests/unit/test_docs.py checks it).
config-docs: install
	cd workflow_scripts && ../$(BIN)/python -m merlib.config_docs

clean:
	rm -rf results logs benchmarks .snakemake
