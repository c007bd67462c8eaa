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


def test_encoder_jobs_are_sized_from_the_checkpoint_not_a_flat_16_gb():
    features = yaml.safe_load((REPO / "configs" / "mer2024-paper.yaml").read_text())["features"]
    res = {name: feature_resources(spec) for name, spec in features.items()}
    # Baichuan-13B in fp16 is 26 GB of weights: the job gets more than that
    assert res["baichuan_13b"]["mem_mb"] > 26_000 and res["baichuan_13b"]["gpu_mem_mb"] > 26_000
    assert 12_000 < res["chatglm2_6b"]["gpu_mem_mb"] < res["baichuan_13b"]["gpu_mem_mb"]
    assert res["whisper_large"]["gpu_mem_mb"] > res["wavlm_large"]["gpu_mem_mb"]
    assert res["egemaps"] == {"gpu": 0, "mem_mb": 4000, "gpu_mem_mb": 0}
    assert res["chinese_hubert_base"]["mem_mb"] < 4000


def test_local_checkpoint_is_sized_by_its_weight_files(tmp_path):
    from merlib.features.base import checkpoint_mb

    (tmp_path / "model.safetensors").write_bytes(b"\0" * 3_000_000)
    (tmp_path / "config.json").write_text("{}")
    spec = {"modality": "audio", "backend": "transformers", "model": str(tmp_path)}
    assert checkpoint_mb(spec) == 3.0
