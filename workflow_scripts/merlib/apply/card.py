"""The model card: what a trained fusion model needs to be applied to new material.

Written by rule ``train_fusion`` next to ``results/fusion/model.pt`` as
``model_card.json``, read by the apply rules: the features the model fuses, each with the
options it was extracted with, the fusion parameters actually trained with (the search's
choice when there was one), the label set, a digest of the training data (the labelled
manifest rows) and the merflow version. Applying with features that differ from the card
is a :class:`CardError` naming the difference.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import __version__
from ..atomic import atomic_path
from ..labels import LABELS
from ..schemas import MANIFEST, read_table

CARD_FORMAT = "merflow-model-card"
CARD_VERSION = 1
CARD_NAME = "model_card.json"


class CardError(ValueError):
    """A missing or unreadable model card, or one that does not fit what is applied."""


def training_digest(manifest_path: str | os.PathLike) -> str:
    """sha256 of the labelled manifest rows (name, path, label), sorted by name."""
    table = read_table(manifest_path, MANIFEST)
    rows = sorted(
        (r["name"], r["path"], r["discrete"])
        for r in table.to_pylist()
        if r["discrete"] is not None
    )
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


def build_card(
    checkpoint: Mapping, specs: Mapping[str, Mapping], manifest_path: str | os.PathLike
) -> dict:
    """The card of a trained ``checkpoint`` (:func:`merlib.fusion.prediction.save_checkpoint`'s
    dict), with the feature ``specs`` (config ``features.<name>``) it was trained on."""
    features = list(checkpoint["features"])
    missing = [f for f in features if f not in specs]
    if missing:
        raise CardError(f"no feature options given for {', '.join(missing)}")
    return {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "merflow_version": __version__,
        "features": [
            {"name": f, "dim": int(d), "options": dict(specs[f])}
            for f, d in zip(features, checkpoint["dims"], strict=True)
        ],
        "fusion": dict(checkpoint["params"]),
        "folds": len(checkpoint["folds"]),
        "labels": list(checkpoint["labels"]),
        "training_data": {
            "labelled_clips": sum(1 for _ in _labelled(manifest_path)),
            "sha256": training_digest(manifest_path),
        },
    }


def _labelled(manifest_path):
    for r in read_table(manifest_path, MANIFEST).to_pylist():
        if r["discrete"] is not None:
            yield r


def write_card(card: Mapping, path: str | os.PathLike) -> None:
    """The card as indented JSON, written atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_card(path: str | os.PathLike) -> dict:
    """The card at ``path``; a :class:`CardError` naming the file when it is missing,
    not JSON, not a merflow card, or for another label set."""
    path = Path(path)
    if not path.is_file():
        raise CardError(
            f"{path}: no model card. A model trained by this merflow has one beside "
            "model.pt; retrain (snakemake train_fusion) to write it."
        )
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: not a JSON model card ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CardError(f"{path}: not a merflow model card (format {CARD_FORMAT!r} expected)")
    if card.get("version") != CARD_VERSION:
        raise CardError(
            f"{path}: card version {card.get('version')}, this merflow reads {CARD_VERSION}"
        )
    if list(card.get("labels", [])) != list(LABELS):
        raise CardError(f"{path}: label set {card.get('labels')} is not {list(LABELS)}")
    return card


def card_features(card: Mapping) -> dict[str, dict]:
    """Feature name -> options, in the card's (the model's) order."""
    return {f["name"]: dict(f["options"]) for f in card["features"]}


def check_features(
    card: Mapping, features: Sequence[str], specs: Mapping[str, Mapping], where: str = "card"
) -> None:
    """Raise :class:`CardError` naming every difference between the card's features (and
    their options) and the ``features`` with ``specs`` about to be applied."""
    trained = card_features(card)
    problems = []
    if list(features) != list(trained):
        problems.append(
            f"features {list(features)} are applied, the model was trained on {list(trained)}"
        )
    for name in trained:
        if name not in specs:
            continue
        given = dict(specs[name])
        for key in sorted(set(trained[name]) | set(given)):
            if trained[name].get(key) != given.get(key):
                problems.append(
                    f"feature {name!r} option {key!r}: {given.get(key)!r} is applied, "
                    f"the model was trained with {trained[name].get(key)!r}"
                )
    if problems:
        raise CardError(f"{where}: the model does not fit these features: " + "; ".join(problems))


def check_checkpoint(card: Mapping, checkpoint: Mapping, where: str = "card") -> None:
    """The card and the checkpoint describe the same model (features, dims, params)."""
    ours = [(f["name"], int(f["dim"])) for f in card["features"]]
    theirs = list(zip(checkpoint["features"], map(int, checkpoint["dims"]), strict=True))
    if ours != theirs or dict(card["fusion"]) != dict(checkpoint["params"]):
        raise CardError(
            f"{where}: the card says features {ours} with {card['fusion']}, the model file "
            f"holds {theirs} with {dict(checkpoint['params'])}: they are not one model"
        )
