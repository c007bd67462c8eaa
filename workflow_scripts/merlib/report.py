"""HTML pages for Snakemake's report: every table viewable in the browser, and the summary a
reader lands on (headline results, clip counts, provenance, the config).

Snakemake's report shows an HTML result in the page (an iframe) but only offers a TSV as a
download, so each TSV a user reads gets an HTML rendering beside it (the TSV stays for
tools). The landing page of the report is ``report/workflow.rst``, which embeds
:func:`headline_fragment`'s HTML; :func:`summary_page` is the full page, the first item of
the report's results.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0; }
.note { color: #555; font-size: 12px; max-width: 60em; }
pre { background: #f7f7f7; padding: 8px; font-size: 12px; overflow: auto; }
"""


def fmt(value, digits: int = 3) -> str:
    """A number as the report prints it (floats to ``digits`` places), '' for missing."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def mean_std(mean: float, std: float | None, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std is not None else f"{mean:.{digits}f}"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n<h2>{html.escape(title)}</h2>\n{body}\n</body></html>\n"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence], caption: str = "") -> str:
    """An HTML table; cells are escaped, numbers right-aligned."""
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            text = html.escape(fmt(value))
            cells.append(f"<td class='num'>{text}</td>" if numeric else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def table_page(table: pd.DataFrame, title: str, source: str, note: str = "") -> str:
    """A whole HTML page showing ``table`` (one TSV), naming the TSV it renders."""
    rows = [[_plain(v) for v in r] for r in table.itertuples(index=False)]
    body = _table(list(table.columns), rows)
    if note:
        body = f"<p class='note'>{html.escape(note)}</p>\n{body}"
    source = html.escape(source)
    body += f"\n<p class='note'>{len(table)} rows; for tools: <code>{source}</code></p>"
    return _page(title, body)


def _plain(value):
    """numpy scalars as Python ones (so that numbers are recognised and formatted)."""
    return value.item() if hasattr(value, "item") else value


# --- headline results ----------------------------------------------------------------------


def headline_rows(
    summary: Mapping,
    robustness: Mapping | None = None,
) -> list[list]:
    """Rows ``[result, WAF, accuracy, clips, how]`` of the headline table."""
    cv = summary["cv"]
    selection = cv.get("selection") or {}
    n_search = int(selection.get("best_of_n_combinations", 0))
    folds = len(cv.get("folds", []))
    how = f"mean ± std over {folds} folds; epoch picked per validation fold"
    if n_search:
        how += f"; best of {n_search} search combinations scored on the same folds (optimistic)"
    rows = [
        [
            "Supervised, cross-validation",
            mean_std(cv["waf"], cv["std"]["waf"]),
            mean_std(cv["acc"], cv["std"]["acc"]),
            cv.get("n_clips"),
            how,
        ]
    ]
    if "test" in summary:
        t = summary["test"]
        rows.append(
            [
                "Supervised, test (unlabelled pool)",
                fmt(t["waf"]),
                fmt(t["acc"]),
                t["n_clips"],
                "final model on the pool, scored against the known labels",
            ]
        )
    st = summary.get("self_training")
    if st:
        last = st["rounds"][-1]
        rows.append(
            [
                "Self-training, cross-validation",
                mean_std(st["cv"]["waf"], st["cv"]["std"]["waf"]),
                mean_std(st["cv"]["acc"], st["cv"]["std"]["acc"]),
                cv.get("n_clips"),
                f"same folds as supervised; {last['round']} round(s), "
                f"{last['n_pseudo']} pseudo-labels above {st['threshold']}",
            ]
        )
        if "test" in st:
            rows.append(
                [
                    "Self-training, test (unlabelled pool)",
                    fmt(st["test"]["waf"]),
                    fmt(st["test"]["acc"]),
                    st["test"]["n_clips"],
                    "",
                ]
            )
    if robustness:
        a = robustness["all"]
        copies = robustness.get("noisy_copies_in_training", 0)
        trained = f"trained with {copies} noisy copies" if copies else "trained on clean clips"
        for what in ("clean", "noisy"):
            rows.append(
                [
                    f"MER-NOISE, {what} evaluation clips",
                    fmt(a[f"waf_{what}"]),
                    fmt(a[f"acc_{what}"]),
                    a["n_clips"],
                    f"WAF drop {a['waf_drop']:.3f}; {trained}" if what == "noisy" else "",
                ]
            )
    return rows


HEADLINE_HEADER = ["result", "WAF", "accuracy", "clips", "how"]


def ov_rows(ov: Mapping) -> list[list]:
    return [
        [
            fmt(ov["accuracy"]),
            fmt(ov["recall"]),
            fmt(ov["avg"]),
            ov["n_clips"],
            str(ov.get("grouping", "")),
        ]
    ]


OV_HEADER = ["accuracy", "recall", "avg", "clips", "grouping"]


# --- clip counts ---------------------------------------------------------------------------

STATUSES = (
    ("labeled", "trained"),
    ("labeled", "excluded"),
    ("unlabeled", "predicted"),
    ("unlabeled", "fallback"),
)


def clip_counts(accounting: pa.Table, top: int = 5) -> tuple[list[list], list[list]]:
    """``([split, status, clips], [reason, clips])``: counts per split and status, and the
    most common recorded problems (the parts of the detail column)."""
    rows = accounting.select(["split", "status", "detail"]).to_pylist()
    counts = Counter((r["split"], r["status"]) for r in rows)
    for key in STATUSES:  # zeros shown too: "0 excluded" is worth reading
        counts.setdefault(key, 0)
    reasons: Counter = Counter()
    for r in rows:
        for part in (r["detail"] or "").split("; "):
            if part:
                reasons[part] += 1
    status_rows = [[s, st, n] for (s, st), n in sorted(counts.items())]
    return status_rows, [[k, n] for k, n in reasons.most_common(top)]


# --- provenance ----------------------------------------------------------------------------


def provenance_rows(provenance: Mapping) -> list[list]:
    commit = provenance.get("commit") or {}
    sha = commit.get("sha", "unknown (not a git checkout)")
    if commit.get("dirty"):
        sha += " (with uncommitted changes)"
    seeds = ", ".join(f"{k} {v}" for k, v in (provenance.get("seeds") or {}).items())
    return [
        ["merflow", f"{provenance.get('merflow_version')}, commit {sha}"],
        ["config sha256", provenance.get("config_sha256", "")],
        ["data_root", f"{provenance.get('data_root')} ({provenance.get('data_root_abs')})"],
        ["seeds", seeds],
        ["written", provenance.get("created", "")],
    ]


def encoder_rows(provenance: Mapping) -> list[list]:
    return [
        [
            e["name"],
            e.get("modality"),
            e.get("backend"),
            e.get("model"),
            e.get("revision") or "not pinned",
            json.dumps(e.get("options") or {}, sort_keys=True),
        ]
        for e in provenance.get("fused_features", [])
    ]


ENCODER_HEADER = ["feature", "modality", "backend", "model id", "revision", "options"]


def clips_sentence(accounting: pa.Table) -> str:
    """One line of clip counts: per split and status, and the most common problems."""
    status_rows, reason_rows = clip_counts(accounting, top=3)
    by_split: dict[str, list[str]] = {}
    for split, status, n in status_rows:
        by_split.setdefault(split, []).append(f"{n} {status}")
    text = "; ".join(f"{split}: {', '.join(parts)}" for split, parts in by_split.items())
    if reason_rows:
        text += ". Most common problems: " + "; ".join(f"{r} ({n})" for r, n in reason_rows)
    return "Clips: " + text + "."


def headline_fragment(
    summary: Mapping,
    robustness: Mapping | None = None,
    ov: Mapping | None = None,
    accounting: pa.Table | None = None,
) -> str:
    """The landing page's block (an HTML fragment for workflow.rst): headline results,
    MER-OV, clip counts, the fused encoders and the commit, compact enough for the
    report's side column."""
    parts = [
        _table(
            ["result", "WAF", "accuracy", "clips"],
            [r[:4] for r in headline_rows(summary, robustness)],
            "Headline results",
        )
    ]
    selection = summary["cv"].get("selection") or {}
    if selection.get("best_of_n_combinations"):
        parts.append(
            f"<p class='note'>The cross-validation WAF is the best of "
            f"{selection['best_of_n_combinations']} search combinations scored on the same "
            "folds, each fold's epoch also picked on its own validation set (the reference's "
            "protocol): an optimistic estimate. The test row is the honest one.</p>"
        )
    else:
        parts.append(
            "<p class='note'>Each fold's epoch is picked on its own validation set (the "
            "reference's protocol): the cross-validation WAF is optimistic.</p>"
        )
    if ov:
        parts.append(_table(OV_HEADER, ov_rows(ov), "MER-OV (set-level)"))
    if accounting is not None:
        parts.append(f"<p class='note'>{html.escape(clips_sentence(accounting))}</p>")
    prov = summary.get("provenance")
    if prov:
        encoders = ", ".join(
            f"{e['name']} ({e.get('model')}, {e.get('revision') or 'not pinned'})"
            for e in prov.get("fused_features", [])
        )
        commit = (prov.get("commit") or {}).get("sha", "unknown")[:12]
        text = (
            f"Fused: {encoders}. merflow {prov.get('merflow_version')}, commit {commit}, "
            f"config {prov['config_sha256'][:12]}, data {prov.get('data_root')}."
        )
        parts.append(f"<p class='note'>{html.escape(text)}</p>")
    return "<div class='merflow-headline'>\n" + "\n".join(parts) + "\n</div>\n"


def summary_page(
    summary: Mapping,
    accounting: pa.Table,
    robustness: Mapping | None = None,
    ov: Mapping | None = None,
) -> str:
    """The report's summary page: headline results, clip counts, provenance, the config."""
    body = [
        _table(HEADLINE_HEADER, headline_rows(summary, robustness), "Headline results"),
        "<p class='note'>Cross-validation: " + html.escape(_protocol(summary)) + "</p>",
    ]
    if ov:
        body.append(_table(OV_HEADER, ov_rows(ov), "MER-OV (set-level accuracy and recall)"))
    status_rows, reason_rows = clip_counts(accounting)
    body.append(_table(["split", "status", "clips"], status_rows, "Clips"))
    if reason_rows:
        body.append(_table(["recorded problem", "clips"], reason_rows, "Most common problems"))
    else:
        body.append("<p class='note'>No clip had a recorded problem.</p>")
    prov = summary.get("provenance")
    if prov:
        body.append(_table(["what", "value"], provenance_rows(prov), "Provenance"))
        body.append(_table(ENCODER_HEADER, encoder_rows(prov), "Fused encoders"))
        config = json.dumps(prov.get("config", {}), indent=2, ensure_ascii=False)
        body.append(f"<h3>Configuration</h3>\n<pre>{html.escape(config)}</pre>")
    return _page("merflow run summary", "\n".join(body))


def _protocol(summary: Mapping) -> str:
    selection = summary["cv"].get("selection") or {}
    return selection.get("protocol", "mean ± population std over folds")


__all__ = [
    "clip_counts",
    "clips_sentence",
    "fmt",
    "headline_fragment",
    "headline_rows",
    "summary_page",
    "table_page",
]
