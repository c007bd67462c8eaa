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


def test_readme_is_short_and_every_page_it_links_exists():
    import re

    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.(?:md|svg)|LICENSE|CITATION\.cff)\)", text)
    assert "docs/configuration.md" in links and "LICENSE" in links
    missing = [link for link in links if not (REPO / link).is_file()]
    assert not missing, missing


def test_every_docs_page_is_linked_from_the_readme():
    text = (REPO / "README.md").read_text()
    pages = sorted(p.name for p in (REPO / "docs").glob("*.md"))
    assert [p for p in pages if f"(docs/{p})" not in text] == []


def test_licence_and_citation_name_merflow_and_the_mer2024_paper():
    from merlib import __version__

    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    assert citation["version"] == __version__
    [paper] = citation["references"]
    assert paper["authors"][0]["family-names"] == "Lian"
    assert paper["identifiers"][0]["value"] == "arXiv:2404.17113" and paper["year"] == 2024
