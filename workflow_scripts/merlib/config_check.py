"""Config mistakes in one short sentence each: the key, what is allowed, and "did you
mean ..." for a misspelt key (instead of the whole schema, as a plain validation error
prints it).

:func:`config_problems` lists them; :func:`check_config` raises :class:`ConfigError`
with them. ``rules/common.smk`` calls it before Snakemake's own ``validate`` (which then
fills in the defaults).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping

MAX_SHOWN = 5


class ConfigError(ValueError):
    """The config does not fit schemas/config.schema.yaml."""


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _suggest(word: str, choices, prefix: str = "") -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {prefix + close[0]!r}?)" if close else ""


def _describe(error) -> list[str]:
    path = list(error.absolute_path)
    where = _key(path)
    kind = error.validator
    if kind == "additionalProperties" and error.validator_value is False:
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        prefix = f"{where}." if path else ""
        return [
            f"unknown key {prefix}{k!s}{_suggest(k, allowed, prefix)}; allowed in "
            f"{where}: {', '.join(allowed)}"
            for k in extras
        ]
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        hint = _suggest(error.instance, error.validator_value)
        return [f"{where}: {error.instance!r} is not allowed{hint}; allowed: {allowed}"]
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [f"{where}: {error.instance!r} is not of type {expected}"]
    if kind == "required":
        return [f"{where}: {error.message}"]
    if kind == "propertyNames":
        return [f"{where}: key {error.instance!r} is not allowed ({error.message})"]
    return [f"{where}: {error.message}"]


def config_problems(config: Mapping, schema: Mapping) -> list[str]:
    """One sentence per problem of ``config`` against ``schema``, in key order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    problems: list[str] = []
    for error in errors:
        for problem in _describe(error):
            if problem not in problems:
                problems.append(problem)
    return problems


def check_config(config: Mapping, schema_path: str | os.PathLike) -> None:
    """Raise :class:`ConfigError` naming every problem (the first few) of ``config``."""
    import yaml

    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    problems = config_problems(config, schema)
    if not problems:
        return
    shown = problems[:MAX_SHOWN]
    more = len(problems) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more" if more else "")
    raise ConfigError(
        f"Config error: {text}. Every key is described in docs/configuration.md "
        "(generated from schemas/config.schema.yaml)."
    )


__all__ = ["ConfigError", "check_config", "config_problems"]
