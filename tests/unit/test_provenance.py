"""Provenance of a run: config hash, commit, fused encoders, seeds, the CV protocol."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import yaml

from merlib import __version__, provenance

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def test_config_hash_ignores_key_order_and_sees_any_value_change():
    reordered = dict(reversed(list(CONFIG.items())))
    assert provenance.config_sha256(reordered) == provenance.config_sha256(CONFIG)
    changed = {**CONFIG, "fusion": {**CONFIG["fusion"], "epochs": 7}}
    assert provenance.config_sha256(changed) != provenance.config_sha256(CONFIG)


def test_fused_encoders_name_model_revision_and_options_of_each_fused_feature():
    encoders = provenance.fused_encoders(CONFIG)
    assert [e["name"] for e in encoders] == CONFIG["fusion"]["features"]
    egemaps = encoders[0]
    assert egemaps["backend"] == "opensmile" and egemaps["model"] == "eGeMAPSv02"
    assert egemaps["revision"].startswith("opensmile==")
    assert egemaps["options"] == {}


def test_transformers_revision_is_the_cached_snapshot_commit(tmp_path, monkeypatch):
    import huggingface_hub.constants

    ref = tmp_path / "models--org--enc" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("abc123\n")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    spec = {"modality": "audio", "backend": "transformers", "model": "org/enc"}
    assert provenance.encoder_revision(spec) == "abc123"
    assert provenance.encoder_revision({**spec, "model": "org/other"}) is None


def test_git_commit_is_none_outside_a_checkout(tmp_path):
    assert provenance.git_commit(tmp_path) is None


def test_run_provenance_records_commit_config_data_and_seeds():
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    record = provenance.run_provenance(CONFIG, REPO / "workflow_scripts", now=now)
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert record["commit"]["sha"] == head
    assert record["merflow_version"] == __version__
    assert record["config_sha256"] == provenance.config_sha256(CONFIG)
    assert record["config"] == CONFIG
    assert record["data_root"] == CONFIG["data_root"]
    assert record["seeds"]["seed"] == CONFIG["seed"]
    assert record["created"] == "2026-01-02T03:04:05+00:00"


def test_cv_selection_says_best_of_n_on_the_same_folds():
    selection = provenance.cv_selection(CONFIG)
    assert selection["best_of_n_combinations"] == CONFIG["search"]["n_combinations"]
    assert selection["optimistic"] and selection["same_folds"]
