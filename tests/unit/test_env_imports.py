"""Each conda environment is complete and minimal for its rules, traced statically (fast):
rule -> script -> module-level imports through merlib -> distributions -> envs/*.yaml.
The end-to-end run under per-rule envs is tests/e2e/test_conda_envs.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conda"))
from env_imports import (  # noqa: E402
    REPO,
    eager_imports,
    env_packages,
    missing_by_rule,
    reasons,
    rule_envs,
    rules_drawing,
    unused_by_env,
)
from shim import EnvFileError, pip_requirements  # noqa: E402

RULES = rule_envs()
ENV_FILES = sorted(p.name for p in (REPO / "envs").glob("*.yaml"))
MISSING = missing_by_rule()


def test_every_scripted_rule_is_traced():
    assert {"ingest_release", "extract_media", "account_clips", "inject_noise"} <= set(RULES)
    assert {env for _, env in RULES.values()} == set(ENV_FILES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_env_declares_every_module_its_script_imports(rule):
    misses = [f"{module} (not in envs/{env})" for module, env in MISSING.get(rule, [])]
    assert not misses, f"rule {rule} imports {', '.join(misses)}"


@pytest.mark.parametrize("env", ENV_FILES)
def test_every_declared_package_is_imported_required_or_explained(env):
    unexplained = [name for name in unused_by_env().get(env, []) if name not in reasons(env)]
    assert not unexplained, (
        f"envs/{env}: no rule using it imports {unexplained}, nothing it holds requires them, "
        "and no comment on their line says why they are there"
    )


def test_a_rule_that_draws_a_picture_has_matplotlib():
    drawing = rules_drawing()
    assert {"render_apply_timeline", "evaluate_predictions", "select_hyperparameters"} <= drawing
    lacking = {r: RULES[r][1] for r in drawing if "matplotlib" not in env_packages(RULES[r][1])}
    assert not lacking, f"rules writing a .png in an env without matplotlib: {lacking}"


def test_the_trace_follows_module_level_imports_only(tmp_path):
    module = tmp_path / "mod.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import numpy as np\n"
        "from . import sibling\n"
        "from .pkg import thing\n"
        "try:\n    import cv2\nexcept ImportError:\n    cv2 = None\n"
        "if TYPE_CHECKING:\n    import torch\n"
        "def f():\n    import pandas\n"
        "class C:\n    import sklearn\n"
    )
    eager = eager_imports(module, "merlib.sub.mod")
    assert {"numpy", "merlib.sub", "merlib.sub.sibling", "merlib.sub.pkg.thing", "cv2"} <= eager
    assert {"sklearn", "typing"} <= eager and not {"torch", "pandas"} & eager
    assert "pandas" in eager_imports(module, "merlib.sub.mod", lazy=True)


def test_env_packages_include_the_post_deploy_scripts():
    assert {"fer", "torch", "opensmile"} <= set(env_packages("features.yaml"))
    assert {"silero-vad", "resemblyzer"} <= set(env_packages("collect.yaml"))


@pytest.mark.parametrize("env", ENV_FILES)
def test_env_file_is_what_conda_accepts_python_311_and_a_pinned_pip_list(env):
    requirements, options = pip_requirements(yaml.safe_load((REPO / "envs" / env).read_text()), env)
    assert requirements and not options
    assert len(requirements) == len(set(requirements))


GOOD = {"channels": ["conda-forge", "nodefaults"], "dependencies": ["python=3.11", "pip"]}


@pytest.mark.parametrize(
    "spec, error",
    [
        ({**GOOD, "channels": ["defaults"]}, "must list conda-forge"),
        ({**GOOD, "dependencies": ["python=3.12", "pip", {"pip": ["a==1"]}]}, "python=3.11"),
        ({**GOOD, "dependencies": ["python=3.11", {"pip": ["a==1"]}]}, "needs `pip`"),
        (
            {**GOOD, "dependencies": ["python=3.11", "pip", "ffmpeg", {"pip": ["a==1"]}]},
            "conda packages ['ffmpeg']",
        ),  # fmt: skip
        ({**GOOD, "dependencies": ["python=3.11", "pip", {"pip": ["numpy>=2"]}]}, "not pinned"),
        ({**GOOD, "dependencies": ["python=3.11", "pip"]}, "one non-empty `pip:` list"),
        ({"channels": ["conda-forge"]}, "no `dependencies:` list"),
    ],
)
def test_env_file_errors_name_the_file_and_the_fault(spec, error):
    with pytest.raises(EnvFileError, match="^bad.yaml: .*") as raised:
        pip_requirements(spec, "bad.yaml")
    assert error in str(raised.value)
