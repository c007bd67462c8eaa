"""The config, checked in one place before any job: every mistake found, reported together
as one :class:`ConfigError` of one short sentence each.

* :func:`read_cli_values`: nested values given with ``--config`` arrive from Snakemake as
  strings (``fusion={epochs: 3}`` gives ``"3"``); they are read as YAML, as a config file's.
* :func:`config_problems`: the config against schemas/config.schema.yaml, one sentence per
  problem (the key, what is allowed, "did you mean ..." for a misspelt key).
* :func:`cross_key_problems`: what the schema cannot say (fusion.features names a
  configured feature, ov asks for an LLM only with ov.llm.model, ...).
* :func:`check_config`: all of them, then the schema's defaults filled in; ``rules/common.smk``
  calls it first and prints its message without a traceback.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from .transcripts import TranscriptParams, check_model

MAX_SHOWN = 20


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
    return _problems(_validator(schema), config)


def _problems(validator, config: Mapping) -> list[str]:
    return _sentences(list(validator.iter_errors(config)))


def _sentences(errors) -> list[str]:
    errors = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    return list(dict.fromkeys(p for error in errors for p in _describe(error)))


def _validator(schema: Mapping, fill_defaults: bool = False):
    """A draft 2020-12 validator of ``schema``; with ``fill_defaults``, one that sets each
    missing key that has a default as it validates (what Snakemake's ``validate`` does)."""
    from jsonschema import Draft202012Validator, validators

    if not fill_defaults:
        return Draft202012Validator(schema)
    properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, props, instance, subschema):
        if isinstance(instance, dict):
            for key, spec in props.items():
                if "default" in spec:
                    instance.setdefault(key, copy.deepcopy(spec["default"]))
        yield from properties(validator, props, instance, subschema)

    return validators.extend(Draft202012Validator, {"properties": set_defaults})(schema)


# --- --config values ------------------------------------------------------------------------


def _string_leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _string_leaves(item, (*path, i))
    elif isinstance(value, str) and len(path) > 1:
        yield path, value


def _error_paths(config: Mapping, schema: Mapping) -> set[tuple]:
    """Where ``config`` breaks ``schema``: every error's key path, those under anyOf/oneOf too."""
    found: set[tuple] = set()
    stack = list(_validator(schema).iter_errors(config))
    while stack:
        error = stack.pop()
        found.add(tuple(error.absolute_path))
        stack.extend(error.context or ())
    return found


def _set(config: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        config = config[key]
    config[path[-1]] = value


def read_cli_values(config: dict, cli: Mapping, schema: Mapping) -> list[str]:
    """Read the nested values given with ``--config`` as YAML, in ``config`` (in place).

    Snakemake reads ``--config key=value`` values as YAML with every scalar a string
    (``'fusion={epochs: 3}'`` gives ``{"fusion": {"epochs": "3"}}``; top-level values are
    typed already); it overlays them on the config files key by key, so the rest of
    ``fusion`` keeps its values. Each such string is replaced by its YAML value
    (``3``, ``0.5``, ``true``, ``[5, 10]``, ``null``), as in a config file, unless the
    schema takes the text as it is and not the YAML value (a revision ``1234`` where a
    string is wanted). Returns the keys read, dotted.
    """
    leaves = []
    for path, text in _string_leaves(cli):
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if isinstance(value, str) and value == text:
            continue
        try:
            _set(config, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # not where --config put it (the config was changed since): leave it
        leaves.append((path, text))
    if leaves:
        broken = _error_paths(config, schema)
        kept_text = [(path, text) for path, text in leaves if path in broken]
        for path, text in kept_text:
            _set(config, path, text)
        if kept_text:
            # the text is no better than the YAML value: the YAML value, as a file gives it
            broken = _error_paths(config, schema)
            for path, text in kept_text:
                if path in broken:
                    _set(config, path, yaml.safe_load(text))
                else:
                    leaves.remove((path, text))
    return [_key(path) for path, _ in leaves]


# --- what the schema cannot say ------------------------------------------------------------


def _feature_names(config: Mapping, key: str, names) -> list[str]:
    features = config["features"]
    return [
        f"{key} names {name!r}, which is not a key of features (known: "
        f"{', '.join(features)}){_suggest(name, features)}"
        for name in names
        if name not in features
    ]


def _fusion_features(config: Mapping) -> list[str]:
    return _feature_names(config, "fusion.features", config["fusion"]["features"])


def _feature_jobs(config: Mapping) -> list[str]:
    per_job = config["feature_jobs"]["shards_per_job"]
    problems = _feature_names(config, "feature_jobs.shards_per_job", per_job)
    # jobs over several shards are rules named after the feature, - written _
    seen: dict[str, str] = {}
    for name, n in per_job.items():
        other = seen.setdefault(name.replace("-", "_"), name)
        if n != 1 and other != name and per_job[other] != 1:
            problems.append(
                f"feature_jobs.shards_per_job: features {other!r} and {name!r} differ only "
                "by - and _, which their job rules cannot tell apart; please rename one"
            )
    return problems


def _transcripts(config: Mapping) -> list[str]:
    section = dict(config["transcripts"])
    problems = []
    try:
        TranscriptParams(**section)
        if section["asr"]:
            check_model(section["model"])
    except ValueError as error:
        problems.append(str(error).rstrip("."))
    return problems


def _ov(config: Mapping) -> list[str]:
    ov = config["ov"]
    needs_llm = (
        ov["method"] == "llm"
        or "llm" in ov["baselines"]
        or "llm" in ov["compare_groupings"]
        or (ov["grouping"] == "llm" and not ov["synonyms"])
    )
    if needs_llm and not ov["llm"]["model"]:
        return [
            "ov asks for an LLM (method, baselines, grouping or compare_groupings is 'llm') "
            "but ov.llm.model is not set: please name the model your OpenAI-compatible "
            "server serves, e.g. --config 'ov={method: llm, llm: {model: NAME, base_url: URL}}'"
        ]
    return []


def _noise(config: Mapping) -> list[str]:
    noise = config["noise"]
    problems = []
    if noise["augment_training"] and not noise["musan_dir"]:
        problems.append(
            "noise.augment_training needs noise.musan_dir (the speech noise to add): "
            "please set it, or turn augment_training off"
        )
    low, high = noise["snr_db"]
    if low > high:
        problems.append(
            f"noise.snr_db is {noise['snr_db']}: the first value (min) must not exceed "
            "the second (max)"
        )
    return problems


# each check, with the sections it reads
CROSS_KEY_CHECKS = (
    (_fusion_features, ("features", "fusion")),
    (_feature_jobs, ("features", "feature_jobs")),
    (_transcripts, ("transcripts",)),
    (_ov, ("ov",)),
    (_noise, ("noise",)),
)


def _message(problems: list[str]) -> str:
    """One line for one mistake; a line each for several (the first :data:`MAX_SHOWN`)."""
    where = (
        "Every key is described in docs/configuration.md "
        "(generated from schemas/config.schema.yaml)."
    )
    if len(problems) == 1:
        return f"Config error: {problems[0]}. {where}"
    shown = problems[:MAX_SHOWN]
    more = len(problems) - len(shown)
    lines = [f"Config error: {len(problems)} mistakes.", *(f"  - {p}" for p in shown)]
    return "\n".join(lines + ([f"  - and {more} more"] if more else []) + [where])


def cross_key_problems(config: Mapping, skip: frozenset[str] = frozenset()) -> list[str]:
    """One sentence per mistake the schema cannot see, in a config with its defaults.

    ``skip``: sections with a schema problem already (which has its own sentence); a check
    that reads one of them is not run.
    """
    problems: list[str] = []
    for check, sections in CROSS_KEY_CHECKS:
        if not skip.intersection(sections):
            problems += check(config)
    return problems


def check_config(config: dict, schema_path: str | os.PathLike, cli: Mapping | None = None) -> None:
    """Check ``config`` completely, then fill in the schema's defaults (in place).

    ``cli``: the values given with ``--config`` (:func:`read_cli_values`). Raises one
    :class:`ConfigError` naming every problem, schema and cross-key alike (the first
    :data:`MAX_SHOWN`).
    """
    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    if cli:
        read_cli_values(config, cli, schema)
    filled = copy.deepcopy(config)
    errors = list(_validator(schema, fill_defaults=True).iter_errors(filled))
    broken = frozenset(str(e.absolute_path[0]) for e in errors if e.absolute_path)
    problems = _sentences(errors) + cross_key_problems(filled, skip=broken)
    if problems:
        raise ConfigError(_message(problems))
    config.update(filled)


__all__ = [
    "ConfigError",
    "check_config",
    "config_problems",
    "cross_key_problems",
    "read_cli_values",
]
