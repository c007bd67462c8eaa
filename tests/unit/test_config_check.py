"""Config mistakes: one short sentence naming the key, what is allowed, did you mean."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from merlib.config_check import ConfigError, check_config, config_problems, read_cli_values

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def changed(**sections):
    config = copy.deepcopy(CONFIG)
    for key, value in sections.items():
        if isinstance(value, dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def test_the_embedded_default_config_has_no_problem():
    assert config_problems(CONFIG, SCHEMA) == []
    check_config(CONFIG, SCHEMA_PATH)


def test_misspelt_key_names_the_full_key_and_suggests_the_right_one():
    config = changed(fusion={"epoch": 3})
    [problem] = config_problems(config, SCHEMA)
    assert problem.startswith("unknown key fusion.epoch (did you mean 'fusion.epochs'?)")
    assert "allowed in fusion: features, folds, epochs" in problem


def test_misspelt_top_level_key_suggests_the_key():
    config = copy.deepcopy(CONFIG)
    config["sherds"] = 3
    assert "did you mean 'shards'?" in config_problems(config, SCHEMA)[0]


def test_misspelt_encoder_option_key_inside_a_feature():
    config = copy.deepcopy(CONFIG)
    config["features"]["egemaps"]["modle"] = "x"
    [problem] = config_problems(config, SCHEMA)
    assert "features.egemaps.modle (did you mean 'features.egemaps.model'?)" in problem


def test_value_outside_an_enum_lists_the_allowed_values_and_suggests_one():
    [problem] = config_problems(changed(fusion={"attention": "sofmax"}), SCHEMA)
    assert problem == (
        "fusion.attention: 'sofmax' is not allowed (did you mean 'softmax'?); "
        "allowed: 'raw', 'softmax'"
    )


def test_wrong_type_and_minimum_name_the_key():
    problems = config_problems(changed(shards=0, seed="x"), SCHEMA)
    assert "seed: 'x' is not of type integer" in problems
    assert "shards: 0 is less than the minimum of 1" in problems


def test_check_config_raises_one_short_message():
    with pytest.raises(ConfigError) as info:
        check_config(changed(fusion={"epoch": 3}), SCHEMA_PATH)
    message = str(info.value)
    assert message.count("\n") == 0 and len(message) < 400
    assert "fusion.epoch" in message and "docs/configuration.md" in message


def test_three_mistakes_of_different_kinds_are_named_together_in_one_error():
    config = changed(
        fusion={"features": ["egemaps", "egemap"]},  # not a configured feature
        noise={"augment_training": True},  # without noise.musan_dir
        ov={"method": "llm"},  # without ov.llm.model
    )
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA_PATH)
    message = str(info.value)
    assert message.startswith("Config error: 3 mistakes.")
    assert "fusion.features names 'egemap'" in message and "did you mean 'egemaps'?" in message
    assert "noise.augment_training needs noise.musan_dir" in message
    assert "ov.llm.model is not set" in message
    assert len(message.splitlines()) == 5  # heading, one line per mistake, where keys are


def test_schema_and_cross_key_mistakes_are_reported_together():
    config = changed(shards=0, feature_jobs={"shards_per_job": {"fer": 2, "nope": 2}})
    config["noise"] = {**config.get("noise", {}), "snr_db": [10, 5]}
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA_PATH)
    message = str(info.value)
    assert "shards: 0 is less than the minimum of 1" in message
    assert "feature_jobs.shards_per_job names 'nope'" in message
    assert "noise.snr_db is [10, 5]: the first value (min) must not exceed" in message


def test_a_cross_key_check_skips_a_section_of_the_wrong_type_which_has_its_sentence():
    config = changed(fusion={"features": "egemaps"})  # a string, not a list
    problems = config_problems(config, SCHEMA)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA_PATH)
    assert "fusion.features: 'egemaps' is not of type array" in problems
    assert str(info.value).startswith("Config error: fusion.features: 'egemaps' is not of")


def test_feature_names_differing_only_by_dash_and_underscore_cannot_both_batch_shards():
    config = copy.deepcopy(CONFIG)
    config["features"]["my-enc"] = config["features"]["my_enc"] = config["features"]["fer"]
    config["feature_jobs"] = {"shards_per_job": {"my-enc": 2, "my_enc": 2}}
    with pytest.raises(ConfigError, match="'my-enc' and 'my_enc' differ only by - and _"):
        check_config(config, SCHEMA_PATH)
    config["feature_jobs"] = {"shards_per_job": {"my-enc": 2, "my_enc": 1}}
    check_config(config, SCHEMA_PATH)  # one job per shard for one of them: no clash


def test_a_transcripts_model_path_to_nothing_is_a_config_mistake(tmp_path):
    config = changed(transcripts={"model": str(tmp_path / "no-model")})
    with pytest.raises(ConfigError, match="transcripts.model .*no-model' does not exist"):
        check_config(config, SCHEMA_PATH)
    check_config(changed(transcripts={"model": str(tmp_path), "asr": False}), SCHEMA_PATH)


def test_check_config_fills_in_the_schemas_defaults_in_place():
    config = copy.deepcopy(CONFIG)
    del config["noise"], config["fusion"]["epochs"]
    check_config(config, SCHEMA_PATH)
    assert (
        config["noise"]["snr_db"]
        == SCHEMA["properties"]["noise"]["properties"]["snr_db"]["default"]
    )
    assert config["fusion"]["epochs"] == 100 and config["fusion"]["features"]


# --config values: Snakemake's parse of 'fusion={epochs: 3}' gives every nested scalar as text
@pytest.mark.parametrize(
    ("cli", "key", "expected"),
    [
        ({"fusion": {"epochs": "3"}}, ("fusion", "epochs"), 3),  # int
        ({"fusion": {"lr": "0.01"}}, ("fusion", "lr"), 0.01),  # float
        ({"noise": {"augment_training": "false"}}, ("noise", "augment_training"), False),
        ({"noise": {"snr_db": ["0", "5"]}}, ("noise", "snr_db"), [0, 5]),  # list
        ({"ov": {"gt_csv": "null"}}, ("ov", "gt_csv"), None),
        ({"ov": {"lexicon": "1234"}}, ("ov", "lexicon"), "1234"),  # a string is wanted
        ({"fusion": {"attention": "softmax"}}, ("fusion", "attention"), "softmax"),
    ],
)
def test_nested_cli_values_are_read_as_yaml_where_the_schema_wants_it(cli, key, expected):
    config = changed(**cli)
    read_cli_values(config, cli, SCHEMA)
    section, name = key
    assert config[section][name] == expected and type(config[section][name]) is type(expected)
    assert config_problems(config, SCHEMA) == []
    # the rest of the section keeps its values: --config overlays, key by key
    assert {k: v for k, v in config[section].items() if k != name} == {
        k: v for k, v in CONFIG[section].items() if k != name
    }


def test_a_cli_value_that_is_wrong_either_way_is_reported_as_yaml_reads_it():
    cli = {"fusion": {"epochs": "three", "folds": "1.5"}}
    config = changed(**cli)
    read_cli_values(config, cli, SCHEMA)
    problems = config_problems(config, SCHEMA)
    assert "fusion.epochs: 'three' is not of type integer" in problems
    assert "fusion.folds: 1.5 is not of type integer" in problems


def test_top_level_cli_values_are_left_as_snakemake_typed_them():
    config = changed(data_root="123")
    read_cli_values(config, {"data_root": "123"}, SCHEMA)
    assert config["data_root"] == "123"
