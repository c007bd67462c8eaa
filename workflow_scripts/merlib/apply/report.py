"""The apply run's own report (rule ``report_apply``, ``results/apply/report.html``): the
model applied (its card: features, labels, training data, when it was written) and one
section per video (turns, speakers, coverage, per-speaker summary, links to its
interactive timeline, picture and subtitles). Apart from the release's Snakemake report,
which never depends on `apply`."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import pyarrow as pa

from .html import page, speakers, summary_table, table
from .timeline import summarise


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def card_section(card: Mapping, written: float | None = None) -> str:
    """The model card in a table (``written``: the card file's modification time, the
    end of training)."""
    features = ", ".join(
        f"{f['name']} ({f['options'].get('modality', '?')}, {f['dim']}-d)" for f in card["features"]
    )
    data = card.get("training_data", {})
    rows = [
        ["features", _esc(features)],
        ["labels", _esc(", ".join(card["labels"]))],
        ["folds", _esc(card.get("folds"))],
        ["fusion", _esc(", ".join(f"{k}={v}" for k, v in card.get("fusion", {}).items()))],
        ["labelled clips", _esc(data.get("labelled_clips"))],
        ["training data sha256", f"<code>{_esc(data.get('sha256', '')[:16])}</code>"],
        ["merflow version", _esc(card.get("merflow_version"))],
    ]
    if written is not None:
        when = dt.datetime.fromtimestamp(written, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        rows.append(["trained (card written)", _esc(when)])
    return "<h3>Model</h3>\n" + table([], rows)


def coverage(rows: Sequence[dict]) -> dict:
    """Turn counts and seconds: all turns, those predicted, and the predicted share of the
    turns' time (``coverage``; 0 when the turns have no length)."""
    seconds = sum(r["end"] - r["start"] for r in rows)
    predicted = [r for r in rows if r["label"] is not None]
    covered = sum(r["end"] - r["start"] for r in predicted)
    return {
        "turns": len(rows),
        "predicted": len(predicted),
        "seconds": seconds,
        "coverage": covered / seconds if seconds > 0 else 0.0,
        "end": max((r["end"] for r in rows), default=0.0),
    }


def video_section(video: str, timeline: pa.Table) -> str:
    """One video: counts, links (relative to ``results/apply/``) and its summary."""
    rows = timeline.to_pylist()
    c = coverage(rows)
    lanes = speakers(rows)
    href = quote(video)
    notes = sorted({r["note"] for r in rows if r["label"] is None and r["note"]})
    links = (
        f"<a href='{href}/timeline.html'>interactive timeline</a> · "
        f"<a href='{href}/timeline.png'>picture</a> · "
        f"<a href='{href}/{quote(video)}.emotions.srt'>subtitles (.srt)</a> · "
        f"<a href='{href}/timeline.csv'>table (.csv)</a>"
    )
    facts = (
        f"{c['turns']} turn{'s' * (c['turns'] != 1)} over {c['end']:.1f} s, "
        f"{c['predicted']} predicted "
        f"(coverage {100 * c['coverage']:.0f} % of the turns' {c['seconds']:.1f} s); "
        f"speakers: {_esc(', '.join(lanes))}"
    )
    out = [
        f"<section id='{_esc(video)}'><h3>{_esc(video)}</h3>",
        f"<p>{facts}</p><p>{links}</p>",
        f"<a href='{href}/timeline.html'><img src='{href}/timeline.png' "
        f"alt='timeline of {_esc(video)}' style='max-width:100%'></a>",
        summary_table(summarise(timeline)),
    ]
    if notes:
        shown = "".join(f"<li>{_esc(n)}</li>" for n in notes[:10])
        more = f"<li>... {len(notes) - 10} more</li>" if len(notes) > 10 else ""
        why = "<summary>why turns were not predicted</summary>"
        out.append(f"<details>{why}<ul>{shown}{more}</ul></details>")
    out.append("</section>")
    return "\n".join(out)


def apply_report(
    card: Mapping, timelines: Mapping[str, pa.Table], card_mtime: float | None = None
) -> str:
    """The whole page: the card, then every video (in ``timelines``' order)."""
    index = "".join(f"<li><a href='#{_esc(v)}'>{_esc(v)}</a></li>" for v in timelines)
    total = sum(t.num_rows for t in timelines.values())
    body = (
        f"<p class='note'>{len(timelines)} video(s), {total} turns. Each video's timeline "
        "page is interactive (zoom, filter, a turn's details on hover).</p>\n"
        f"{card_section(card, card_mtime)}\n<h3>Videos</h3><ul>{index}</ul>\n"
        + "\n".join(video_section(v, t) for v, t in timelines.items())
    )
    return page("merflow apply: emotion timelines", body)
