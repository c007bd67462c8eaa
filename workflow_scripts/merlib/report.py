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

from .report_asr import (
    ASR_CAPTION,
    ASR_HEADER,
    ASR_NOTE,
    ASR_WORST_HEADER,
    asr_check_rows,
    asr_worst_rows,
)

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


# --- the first page: figures per track, pictures, provenance in one line ----------------

# Snakemake 9's report shows report/workflow.rst (rendered by docutils, our HTML fragment
# included raw) in a narrow column ("prose max-w-lg", 32rem) inside a full-height flex box
# that centres its content vertically ("items-center h-screen"): a page shorter than the
# window gets a blank band above it, a taller one loses its top. A <style> element inside
# the fragment (innerHTML applies it) widens that column and aligns the box to the top;
# ":has(.merflow-headline)" keeps the rules to the landing page.
FIRST_PAGE_STYLE = """
div.h-screen:has(.merflow-headline) { align-items: flex-start; justify-content: flex-start; }
div.prose:has(.merflow-headline) { max-width: 62rem; }
.merflow-headline { font-size: 13px; line-height: 1.35; }
.merflow-headline p { margin: 0.3em 0; }
.merflow-headline table { margin: 0.2em 0 0.4em; font-size: 12px; width: auto; }
.merflow-headline th, .merflow-headline td { padding: 1px 6px; }
.merflow-headline caption { font-weight: 600; text-align: left; }
.merflow-headline .mf-prov { font-family: ui-monospace, monospace; font-size: 11px;
  color: #444; background: #f4f4f4; padding: 2px 6px; }
.merflow-headline .mf-tracks { display: flex; flex-wrap: wrap; gap: 0 1.2em; }
.merflow-headline .mf-figures { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 12px;
  margin: 0.4em 0; }
.merflow-headline figure { margin: 0; }
.merflow-headline figure img { width: 100%; height: auto; margin: 0; border: 1px solid #eee; }
.merflow-headline figcaption { font-size: 11px; color: #555; margin: 0; }
.merflow-headline .note { color: #555; font-size: 11px; }
"""

SUPERVISED_COLOUR, SELF_TRAINED_COLOUR = "#4878b0", "#e08a2c"
CLEAN_COLOUR, NOISY_COLOUR = "#4878b0", "#c8463c"


def data_uri(data: bytes, mime: str) -> str:
    """``data`` as a data: URI (a picture the page carries itself, nothing to fetch)."""
    import base64

    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def bar_chart_svg(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None], Sequence[float | None] | None]],
    notes: Sequence[str] | None = None,
    width: int = 460,
    height: int = 230,
) -> str:
    """A grouped bar chart as standalone SVG: ``series`` are ``(name, colour, values,
    errors)`` (``None`` skips a bar, ``errors`` may be None), one bar per series in each
    category, each labelled with its value; ``notes`` (one per category) are printed
    above the group. The y axis is zoomed to the values (never below 0 or above 1)."""
    import math

    spans = [
        (v - (e or 0), v + (e or 0))
        for _, _, values, errors in series
        for v, e in zip(values, errors or [None] * len(values), strict=True)
        if v is not None
    ]
    lows, highs = [a for a, _ in spans], [b for _, b in spans]
    lo = max(0.0, math.floor((min(lows, default=0) - 0.05) * 10) / 10)
    hi = min(1.0, math.ceil((max(highs, default=1) + 0.04) * 10) / 10)
    if hi <= lo:
        lo, hi = 0.0, 1.0
    left, right, top, bottom = 34, 8, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='10'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{width / 2}' y='13' text-anchor='middle' font-size='12' "
        f"font-weight='bold'>{html.escape(title)}</text>",
    ]
    steps = 4
    for i in range(steps + 1):
        v = lo + (hi - lo) * i / steps
        out.append(
            f"<line x1='{left}' x2='{width - right}' y1='{y(v):.1f}' y2='{y(v):.1f}' "
            "stroke='#ddd'/>"
            f"<text x='{left - 3}' y='{y(v) + 3:.1f}' text-anchor='end'>{v:.2f}</text>"
        )
    group_w = plot_w / max(1, len(categories))
    bar_w = min(28.0, group_w * 0.8 / max(1, len(series)))
    for c, category in enumerate(categories):
        x0 = left + c * group_w + (group_w - bar_w * len(series)) / 2
        for k, (_name, colour, values, errors) in enumerate(series):
            v = values[c]
            if v is None:
                continue
            x = x0 + k * bar_w
            out.append(
                f"<rect x='{x:.1f}' y='{y(v):.1f}' width='{bar_w - 2:.1f}' "
                f"height='{y(lo) - y(v):.1f}' fill='{colour}'/>"
            )
            err = errors[c] if errors else None
            mid = x + (bar_w - 2) / 2
            if err:
                y1, y2 = y(max(lo, v - err)), y(min(hi, v + err))
                out.append(
                    f"<line x1='{mid:.1f}' x2='{mid:.1f}' y1='{y1:.1f}' y2='{y2:.1f}' "
                    "stroke='#222'/>"
                )
            out.append(
                f"<text x='{mid:.1f}' y='{y(v) + 11:.1f}' text-anchor='middle' "
                f"fill='white' font-size='8'>{v:.3f}</text>"
            )
        cx = left + (c + 0.5) * group_w
        out.append(
            f"<text x='{cx:.1f}' y='{top + plot_h + 12}' text-anchor='middle'>"
            f"{html.escape(category)}</text>"
        )
        if notes and notes[c]:
            out.append(
                f"<text x='{cx:.1f}' y='{top - 4}' text-anchor='middle' font-weight='bold'>"
                f"{html.escape(notes[c])}</text>"
            )
    lx = left
    for name, colour, _values, _errors in series:
        out.append(
            f"<rect x='{lx}' y='{height - 14}' width='10' height='10' fill='{colour}'/>"
            f"<text x='{lx + 13}' y='{height - 5}'>{html.escape(name)}</text>"
        )
        lx += 20 + 6 * len(name)
    out.append("</svg>")
    return "".join(out)


def self_training_gain_svg(summary: Mapping) -> str | None:
    """Supervised vs self-trained WAF (CV with ± std, and test) and the gain above each."""
    st = summary.get("self_training")
    if not st:
        return None
    cv = summary["cv"]
    categories, sup, self_, sup_err, self_err, notes = [], [], [], [], [], []
    categories.append("cross-validation")
    sup.append(cv["waf"])
    self_.append(st["cv"]["waf"])
    sup_err.append(cv["std"]["waf"])
    self_err.append(st["cv"]["std"]["waf"])
    if "test" in summary and "test" in st:
        categories.append("test (pool)")
        sup.append(summary["test"]["waf"])
        self_.append(st["test"]["waf"])
        sup_err.append(None)
        self_err.append(None)
    notes = [f"gain {b - a:+.3f}" for a, b in zip(sup, self_, strict=True)]
    return bar_chart_svg(
        "MER-SEMI: self-training gain (WAF)",
        categories,
        [
            ("supervised", SUPERVISED_COLOUR, sup, sup_err),
            ("self-trained", SELF_TRAINED_COLOUR, self_, self_err),
        ],
        notes,
    )


def robustness_svg(robustness: Mapping) -> str | None:
    """MER-NOISE: WAF clean vs noisy over all clips, per SNR and per blur factor."""
    if not robustness:
        return None
    groups = noise_groups(robustness)
    return bar_chart_svg(
        "MER-NOISE: WAF clean vs noisy, by SNR and blur factor",
        [g for g, _ in groups],
        [
            ("clean", CLEAN_COLOUR, [v["waf_clean"] for _, v in groups], None),
            ("noisy", NOISY_COLOUR, [v["waf_noisy"] for _, v in groups], None),
        ],
        [f"n={v['n_clips']}" for _, v in groups],
        width=max(460, 52 * len(groups) + 50),
    )


def _by_number(mapping: Mapping | None) -> list[tuple[str, Mapping]]:
    """Items in numeric key order; keys that are no number (blur ``none``: no video) last."""

    def key(kv):
        try:
            return (0, float(kv[0]), "")
        except ValueError:
            return (1, 0.0, kv[0])

    return sorted((mapping or {}).items(), key=key)


def semi_rows(summary: Mapping) -> list[list]:
    """MER-SEMI: ``[model, CV WAF ± std, CV acc ± std, test WAF, test acc]``, then the gain
    of self-training over supervised."""
    cv, test = summary["cv"], summary.get("test") or {}

    def row(name: str, cv: Mapping, test: Mapping) -> list:
        return [
            name,
            mean_std(cv["waf"], cv["std"]["waf"]),
            mean_std(cv["acc"], cv["std"]["acc"]),
            fmt(test.get("waf")),
            fmt(test.get("acc")),
        ]

    rows = [row("supervised", cv, test)]
    st = summary.get("self_training")
    if st:
        st_test = st.get("test") or {}
        rows.append(row("self-trained", st["cv"], st_test))

        def gain(a: Mapping, b: Mapping, key: str) -> str:
            return f"{b[key] - a[key]:+.3f}" if key in a and key in b else ""

        rows.append(
            [
                "gain",
                gain(cv, st["cv"], "waf"),
                gain(cv, st["cv"], "acc"),
                gain(test, st_test, "waf"),
                gain(test, st_test, "acc"),
            ]
        )
    return rows


SEMI_HEADER = ["MER-SEMI", "CV WAF", "CV acc", "test WAF", "test acc"]


def noise_groups(robustness: Mapping) -> list[tuple[str, Mapping]]:
    """``(name, scores)`` of all clips, each SNR and each blur factor, in numeric order."""
    groups = [("all", robustness["all"])]
    groups += [(f"{k} dB", v) for k, v in _by_number(robustness.get("by_snr_db"))]
    groups += [
        (f"blur x{k}" if k != "none" else "no video (not blurred)", v)  # noise.robustness
        for k, v in _by_number(robustness.get("by_blur_factor"))
    ]
    return groups


def noise_table(robustness: Mapping) -> tuple[list[str], list[list]]:
    """MER-NOISE, one column per group (all clips, each SNR, each blur factor): rows WAF
    clean, WAF noisy, the drop and the clips."""
    groups = noise_groups(robustness)
    header = ["MER-NOISE"] + [g for g, _ in groups]
    rows = [
        ["WAF clean"] + [fmt(v["waf_clean"]) for _, v in groups],
        ["WAF noisy"] + [fmt(v["waf_noisy"]) for _, v in groups],
        ["drop"] + [f"{v['waf_drop']:+.3f}" for _, v in groups],
        ["clips"] + [v["n_clips"] for _, v in groups],
    ]
    return header, rows


def submission_sentence(summary: Mapping) -> str:
    choice = summary.get("submission")
    if not choice:
        return ""
    model = {"self_training": "self-trained", "supervised": "supervised"}[choice["model"]]
    return f"Submitted: the {model} model's predictions ({choice['reason']})."


def provenance_line(provenance: Mapping, data_digest: str | None = None) -> str:
    """Commit, config digest, data digest (the manifest's) and date in one line."""
    commit = provenance.get("commit") or {}
    sha = commit.get("sha", "unknown")[:12] + ("+dirty" if commit.get("dirty") else "")
    created = str(provenance.get("created", ""))
    date = created[:16].replace("T", " ") + (" UTC" if created.endswith("+00:00") else "")
    parts = [
        f"commit {sha}",
        f"config {provenance.get('config_sha256', '')[:12]}",
        f"data {data_digest[:12]}" if data_digest else "data unknown",
        date,
        f"merflow {provenance.get('merflow_version')}",
    ]
    return " · ".join(parts)


def _figure(src: str, caption: str, alt: str) -> str:
    return (
        f"<figure><img src='{src}' alt='{html.escape(alt)}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def headline_fragment(
    summary: Mapping,
    robustness: Mapping | None = None,
    ov: Mapping | None = None,
    accounting: pa.Table | None = None,
    pictures: Mapping[str, bytes] | None = None,
    data_digest: str | None = None,
) -> str:
    """The report's first page (an HTML fragment report/workflow.rst includes): provenance
    in one line, the headline figures per track (MER-SEMI, MER-NOISE, MER-OV), the
    submission's model and why, and the pictures themselves (``pictures``: PNG bytes of
    ``confusion`` and ``per_class_f1``; the self-training gain and the MER-NOISE figures
    drawn here as SVG), all carried in the page as data URIs."""
    pictures = pictures or {}
    parts = [f"<style>{FIRST_PAGE_STYLE}</style>"]
    prov = summary.get("provenance")
    if prov:
        parts.append(f"<p class='mf-prov'>{html.escape(provenance_line(prov, data_digest))}</p>")
    tracks = [_table(SEMI_HEADER, semi_rows(summary), "MER-SEMI (cross-validation, test pool)")]
    if ov:
        tracks.append(
            _table(
                ["accuracy", "recall", "avg", "clips"],
                [[fmt(ov["accuracy"]), fmt(ov["recall"]), fmt(ov["avg"]), ov["n_clips"]]],
                f"MER-OV (set-level, {ov.get('grouping', '')})",
            )
        )
    if robustness:
        header, rows = noise_table(robustness)
        tracks.append(_table(header, rows, "MER-NOISE (WAF by SNR and blur factor)"))
    asr_rows = asr_check_rows(summary.get("asr_check"))
    if asr_rows:
        tracks.append(_table(ASR_HEADER[:4], [r[:4] for r in asr_rows], ASR_CAPTION))
    parts.append("<div class='mf-tracks'>" + "\n".join(tracks) + "</div>")
    sentence = submission_sentence(summary)
    if sentence:
        parts.append(f"<p><b>{html.escape(sentence)}</b></p>")
    gain = self_training_gain_svg(summary)
    noise = robustness_svg(robustness) if robustness else None
    svg = "image/svg+xml"
    shown = [  # (picture, type, caption, alt text)
        (
            gain and gain.encode("utf-8"),
            svg,
            "Self-training gain: WAF of both models on the same folds (bars ± std) and on "
            "the test pool.",
            "self-training gain",
        ),
        (
            pictures.get("per_class_f1"),
            "image/png",
            "Per-class F1 of the supervised model: cross-validation (out-of-fold) and test.",
            "per-class F1",
        ),
        (
            pictures.get("confusion"),
            "image/png",
            "Confusion matrices, cross-validation and test (rows: true class; shade: share "
            "of the row).",
            "confusion matrix",
        ),
        (
            noise and noise.encode("utf-8"),
            svg,
            "MER-NOISE: the same model on the clean and the noisy copy of the pool.",
            "MER-NOISE robustness",
        ),
    ]
    figures = [
        _figure(data_uri(data, mime), caption, alt) for data, mime, caption, alt in shown if data
    ]
    if figures:
        parts.append("<div class='mf-figures'>" + "\n".join(figures) + "</div>")
    selection = summary["cv"].get("selection") or {}
    if selection.get("best_of_n_combinations"):
        parts.append(
            f"<p class='note'>CV WAF: the best of {selection['best_of_n_combinations']} "
            "search combinations scored on the same folds, each fold's epoch also picked on "
            "its own validation set (the reference's protocol): an optimistic estimate. The "
            "test column is the honest one.</p>"
        )
    else:
        parts.append(
            "<p class='note'>CV WAF: each fold's epoch is picked on its own validation set "
            "(the reference's protocol): an optimistic estimate.</p>"
        )
    if accounting is not None:
        parts.append(f"<p class='note'>{html.escape(clips_sentence(accounting))}</p>")
    if prov:
        encoders = ", ".join(
            f"{e['name']} ({e.get('model')}, {e.get('revision') or 'not pinned'})"
            for e in prov.get("fused_features", [])
        )
        parts.append(f"<p class='note'>{html.escape('Fused: ' + encoders + '.')}</p>")
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
    check = summary.get("asr_check")
    if asr_check_rows(check):
        body.append(_table(ASR_HEADER, asr_check_rows(check), ASR_CAPTION))
        body.append(f"<p class='note'>{html.escape(ASR_NOTE)}</p>")
        body.append(
            _table(
                ASR_WORST_HEADER,
                asr_worst_rows(check),
                "ASR's worst clips (every checked clip: results/metrics/asr_check.tsv)",
            )
        )
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
    "bar_chart_svg",
    "clip_counts",
    "clips_sentence",
    "fmt",
    "headline_fragment",
    "headline_rows",
    "provenance_line",
    "robustness_svg",
    "self_training_gain_svg",
    "summary_page",
    "table_page",
]
