"""Workflow files stay correct: rules, conda envs (conda cannot run here), the DAG picture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO / "rules").glob("*.smk"))
DIRECTIVES = ("output", "log", "benchmark", "conda", "threads", "resources", "script")


def parse_rules() -> dict[str, dict[str, str]]:
    """rule (or checkpoint) name -> {directive: first line of its value}, from the
    snakefmt-formatted files."""
    rules: dict[str, dict[str, str]] = {}
    for path in RULE_FILES:
        current = None
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if m := re.match(r"^(?:rule|checkpoint) (\w+):", line):
                current = rules.setdefault(m.group(1), {"__file__": path.name})
            elif current is not None and (m := re.match(r"^    (\w+):\s*(.*)$", line)):
                value = m.group(2) or (lines[i + 1].strip() if i + 1 < len(lines) else "")
                current[m.group(1)] = value
            elif line and not line.startswith((" ", "#")):
                current = None
    return rules


def pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if m := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$", line):
            out[m.group(1).lower()] = m.group(2)
    return out


def parse_use_rules() -> list[str]:
    """Names of the rules made by ``use rule X as Y with:`` (directives inherited)."""
    return [
        m.group(1)
        for path in RULE_FILES
        for m in re.finditer(r"^use rule \w+ as (\w+)", path.read_text(), re.M)
    ]


REQUIREMENTS = pins((REPO / "requirements.txt").read_text().splitlines())
REQUIREMENTS_NODEPS = pins((REPO / "requirements-nodeps.txt").read_text().splitlines())
RULES = parse_rules()
USE_RULES = parse_use_rules()


def test_rules_are_found():
    assert {"ingest_release", "extract_media", "train_fusion", "evaluate_predictions"} <= set(RULES)
    assert {"extract_noisy_media", "inject_training_noise"} <= set(USE_RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_declares_log_benchmark_conda_threads_resources(rule):
    missing = [d for d in DIRECTIVES if d not in RULES[rule]]
    assert not missing, f"rule {rule} lacks {missing}"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_names_an_existing_env(rule):
    env = RULES[rule]["conda"].strip("\"'")
    assert (REPO / "rules" / env).resolve().is_file(), f"rule {rule}: {env} does not exist"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_script_exists_and_is_named_after_the_rule(rule):
    script = RULES[rule]["script"].strip("\"'")
    assert Path(script).name == f"{rule}.py"
    assert (REPO / "rules" / script).resolve().is_file()


ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda p: p.name)
def test_env_pins_agree_with_requirements(env):
    spec = yaml.safe_load(env.read_text())
    deps = spec["dependencies"]
    assert "python=3.11" in deps
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip_lists, f"{env.name}: no pip section"
    env_pins = pins(pip_lists[0])
    assert len(env_pins) == len(pip_lists[0]), f"{env.name}: every package must be pinned (==)"
    for name, version in env_pins.items():
        assert REQUIREMENTS.get(name) == version, (
            f"{env.name} pins {name}=={version}; requirements.txt has {REQUIREMENTS.get(name)}"
        )


def test_every_env_is_used_by_a_rule():
    used = {(REPO / "rules" / r["conda"].strip("\"'")).resolve() for r in RULES.values()}
    assert {e.resolve() for e in ENV_FILES} == used


def test_post_deploy_scripts_pin_what_requirements_nodeps_pins():
    for script in (REPO / "envs").glob("*.post-deploy.sh"):
        found = pins(re.findall(r"([A-Za-z0-9_.\-]+==[^\s]+)", script.read_text()))
        assert found, f"{script.name} installs nothing pinned"
        for name, version in found.items():
            assert REQUIREMENTS_NODEPS.get(name) == version, f"{script.name}: {name}=={version}"


def test_no_torchvision_or_torchaudio_anywhere():
    for path in [REPO / "requirements.txt", *ENV_FILES]:
        text = path.read_text()
        assert "torchvision" not in text and "torchaudio" not in text, path.name


def test_readme_rule_graph_names_every_rule():
    svg = (REPO / "docs" / "rulegraph.svg").read_text()
    missing = [rule for rule in [*RULES, *USE_RULES] if f">{rule}<" not in svg]
    assert not missing, f"docs/rulegraph.svg is stale (make rulegraph): lacks {missing}"
    assert "docs/rulegraph.svg" in (REPO / "README.md").read_text()
