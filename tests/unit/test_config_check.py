"""Config mistakes: one short sentence naming the key, what is allowed, did you mean."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from merlib.config_check import ConfigError, check_config, config_problems

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
