"""configs/mer2024-paper.yaml is a valid config for a GPU cluster (checked, never run)."""

from __future__ import annotations

from pathlib import Path

import yaml
from snakemake.utils import validate

from merlib.features.base import feature_resources, validate_spec

REPO = Path(__file__).resolve().parents[2]


def _paper_config() -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    paper = yaml.safe_load((REPO / "configs" / "mer2024-paper.yaml").read_text())
    config.update(paper)  # as --configfile does for top-level keys
    validate(config, str(REPO / "schemas" / "config.schema.yaml"))
    return config


def test_paper_config_validates_and_every_encoder_is_a_known_backend_spec():
    config = _paper_config()
    features = config["features"]
    for name, spec in features.items():
        validate_spec(name, spec)
    assert set(config["fusion"]["features"]) <= set(features)
    models = {spec["model"] for spec in features.values()}
    assert {
        "TencentGameMate/chinese-hubert-large",
        "openai/clip-vit-large-patch14",
        "baichuan-inc/Baichuan-13B-Base",
    } <= models


def test_paper_config_transformers_jobs_ask_for_a_gpu_and_remote_code_is_explicit():
    for name, spec in _paper_config()["features"].items():
        options = spec.get("options") or {}
        if spec["backend"] == "transformers":
            assert feature_resources(spec)["gpu"] == 1, name
        if "baichuan" in spec["model"].lower() or "chatglm" in spec["model"].lower():
            assert options.get("trust_remote_code") is True, name
        else:
            assert not options.get("trust_remote_code"), name
