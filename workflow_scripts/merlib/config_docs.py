"""The configuration reference (docs/configuration.md), generated from
schemas/config.schema.yaml: the schema is the one source of truth, and a test checks that
the committed page is what this module renders from it.

Regenerate with ``make config-docs`` (``python -m merlib.config_docs``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

HEADER = """# Configuration reference

<!-- Generated from schemas/config.schema.yaml by `make config-docs`
(workflow_scripts/merlib/config_docs.py); do not edit by hand. -->

merflow's embedded default is `config.yaml` beside the Snakefile; `--configfile mine.yaml`
overlays it (only the keys you give change) and `--config key=value` overlays both, key by
key: `--config 'fusion={epochs: 3}'` changes `fusion.epochs` and keeps the rest of `fusion`
(a list, such as `fusion.features`, is replaced whole). Nested values given with `--config`
are read as YAML, as in a config file (`'fusion={epochs: 3, lr: 0.01}'`,
`'tables={enabled: true}'`, `'noise={snr_db: [0, 5]}'`, `'ov={gt_csv: null}'`), except where
this schema wants text: there the text is kept as typed.

The config is checked before any job starts: every mistake (a value that does not fit this
schema, a misspelt key with "did you mean ...", and what the schema cannot say, such as
`fusion.features` naming a feature that `features` does not configure) is listed in one
message, one sentence each.

"""


def _type(spec: Mapping) -> str:
    kind = spec.get("type", "")
    kind = " or ".join(kind) if isinstance(kind, list) else str(kind)
    items = spec.get("items")
    if kind == "array" and isinstance(items, Mapping) and items.get("type"):
        kind = f"list of {items['type']}"
    return kind


def _allowed(spec: Mapping) -> str:
    parts = []
    enum = spec.get("enum") or (spec.get("items") or {}).get("enum")
    if enum:
        parts.append("one of " + ", ".join(f"`{v}`" for v in enum))
    for key, word in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
        ("minItems", "items >="),
        ("maxItems", "items <="),
        ("minLength", "length >="),
    ):
        if key in spec:
            parts.append(f"{word} {spec[key]}")
    return "; ".join(parts)


def _default(spec: Mapping, required: bool = False) -> str:
    if "default" not in spec:
        return "(required)" if required else "(none)"
    value = spec["default"]
    if isinstance(value, Mapping) and spec.get("type") == "object" and "properties" in spec:
        return "see below"
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(spec: Mapping, prefix: str) -> Iterator[tuple[str, Mapping, bool]]:
    """(dotted key, schema, required) of every documented key under ``spec``, depth first."""
    required = set(spec.get("required") or ())
    for name, sub in (spec.get("properties") or {}).items():
        key = f"{prefix}{name}"
        yield key, sub, name in required
        if sub.get("type") == "object":
            yield from _rows(sub, key + ".")
            extra = sub.get("additionalProperties")
            if isinstance(extra, Mapping) and extra.get("properties"):
                yield from _rows(extra, key + ".<name>.")


def render_reference(schema: Mapping) -> str:
    """Markdown: one section per top-level key, one table row per key."""
    out = [HEADER]
    for name, section in schema["properties"].items():
        out.append(f"## `{name}`\n")
        if section.get("type") == "object":
            out.append(f"{_cell(section.get('description', ''))}\n")
        rows = [(name, section, False)] if section.get("type") != "object" else []
        rows += list(_rows(section, f"{name}.")) if section.get("type") == "object" else []
        extra = section.get("additionalProperties")
        if isinstance(extra, Mapping) and extra.get("properties"):
            rows += list(_rows(extra, f"{name}.<name>."))
        if section.get("type") == "object" and "default" in section and not rows:
            rows = [(name, section, False)]
        if section.get("type") == "object" and not section.get("properties"):
            default = json.dumps(section.get("default"), ensure_ascii=False)
            out.append(f"Default: `{default}`\n")
        if rows:
            out.append("| key | type | default | allowed | description |")
            out.append("|---|---|---|---|---|")
            for key, spec, required in rows:
                out.append(
                    f"| `{key}` | {_cell(_type(spec))} | {_cell(_default(spec, required))} | "
                    f"{_cell(_allowed(spec))} | {_cell(spec.get('description', ''))} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    import yaml

    argv = sys.argv[1:] if argv is None else argv
    repo = Path(__file__).resolve().parents[2]
    schema_path = Path(argv[0]) if argv else repo / "schemas" / "config.schema.yaml"
    target = Path(argv[1]) if len(argv) > 1 else repo / "docs" / "configuration.md"
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    target.write_text(render_reference(schema), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
