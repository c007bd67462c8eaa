"""Docs stay true: the configuration reference is what the schema renders, the README is
short and points at docs/, the licence and citation files are there."""

from __future__ import annotations

from pathlib import Path

import yaml

from merlib.config_docs import render_reference

REPO = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())


def test_configuration_reference_is_generated_from_the_current_schema():
    committed = (REPO / "docs" / "configuration.md").read_text()
    assert committed == render_reference(SCHEMA), (
        "docs/configuration.md is stale: run `make config-docs`"
    )


def test_configuration_reference_names_every_key_with_its_default():
    text = (REPO / "docs" / "configuration.md").read_text()
    for section, spec in SCHEMA["properties"].items():
        for key in spec.get("properties", {}):
            assert f"`{section}.{key}`" in text, f"{section}.{key}"
