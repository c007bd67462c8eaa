"""The timeline as an interactive page (rule ``render_apply_timeline``): one
self-contained HTML file, inline SVG and a little vanilla JavaScript, nothing fetched.

One lane per speaker; each turn a rectangle from its start to its end, coloured by its
label (the colours of :mod:`merlib.apply.plot`), its opacity the label's probability;
turns without a prediction hatched grey. Hovering or focusing a turn (Tab) shows its time
range, speaker, face track, label, the six probabilities, modalities, note and text.
Buttons zoom, a slider pans, two menus filter by speaker and by label; under the picture,
the per-speaker summary (:func:`merlib.apply.timeline.summarise`) and every turn as a
table. Transcript text reaches the page only HTML-escaped (tables, SVG titles) or as JSON
whose ``<``, ``>`` and ``&`` are ``\\u`` escapes, shown by ``textContent``.
"""

from __future__ import annotations

import html
import json

import pyarrow as pa

from ..labels import LABELS, PROB_COLUMNS
from .plot import COLOURS
from .timeline import summarise

WIDTH = 1000  # SVG user units of the time axis
LANE = 34  # height of a speaker's lane
LEFT = 70  # room for the speaker names
UNPREDICTED = "not predicted"

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
.note { color: #555; font-size: 12px; max-width: 60em; }
.controls { margin: 0.5em 0; display: flex; gap: 0.6em; align-items: center; flex-wrap: wrap; }
.legend span { display: inline-block; margin-right: 1em; }
.legend i { display: inline-block; width: 14px; height: 14px; vertical-align: middle;
  margin-right: 4px; border: 1px solid #666; }
svg .turn { stroke: rgba(0, 0, 0, 0.3); stroke-width: 0.3; cursor: pointer; }
svg .turn:focus, svg .turn:hover { stroke: #000; stroke-width: 2; outline: none; }
svg .turn.off { display: none; }
#tip { position: absolute; display: none; background: #fff; border: 1px solid #888;
  padding: 6px 8px; font-size: 12px; max-width: 32em; box-shadow: 2px 2px 6px #aaa;
  pointer-events: none; }
#tip b { display: inline-block; min-width: 7.5em; }
"""

SCRIPT = r"""
(() => {
  const turns = JSON.parse(document.getElementById("turns").textContent);
  const svg = document.getElementById("lanes"), axis = document.getElementById("axis");
  const rects = [...svg.querySelectorAll(".turn")];
  const W = +svg.dataset.width, L = +svg.dataset.left, END = +svg.dataset.end;
  const tip = document.getElementById("tip");
  let t0 = 0, span = END;
  const pan = document.getElementById("pan");
  function fmt(s) { const h = Math.floor(s / 3600), m = Math.floor((s - 3600 * h) / 60);
    const sec = (s - 3600 * h - 60 * m).toFixed(1).padStart(4, "0");
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + sec; }
  function layout() {
    const k = W / span;
    rects.forEach((r) => { const t = turns[+r.dataset.i];
      const x0 = Math.max(t0, t.start), x1 = Math.min(t0 + span, t.end);
      if (x1 <= x0) { r.setAttribute("width", 0); return; }
      r.setAttribute("x", L + (x0 - t0) * k);
      r.setAttribute("width", Math.max(1, (x1 - x0) * k)); });
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
    const step = steps.find((s) => span / s <= 10) || 7200;
    for (let s = Math.ceil(t0 / step) * step; s <= t0 + span + 1e-9; s += step) {
      const x = L + (s - t0) * k;
      const line = document.createElementNS(svg.namespaceURI, "line");
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      line.setAttribute("y1", 0); line.setAttribute("y2", +svg.dataset.lanes);
      line.setAttribute("stroke", "#ddd"); axis.appendChild(line);
      const text = document.createElementNS(svg.namespaceURI, "text");
      text.setAttribute("x", x); text.setAttribute("y", +svg.dataset.lanes + 14);
      text.setAttribute("text-anchor", "middle"); text.setAttribute("font-size", 11);
      text.textContent = fmt(s); axis.appendChild(text);
    }
    pan.max = Math.max(0, END - span); pan.step = span / 50; pan.value = t0;
    document.getElementById("window").textContent = fmt(t0) + " - " + fmt(t0 + span);
  }
  function zoom(f) { const mid = t0 + span / 2; span = Math.min(END, Math.max(1, span * f));
    t0 = Math.min(Math.max(0, mid - span / 2), END - span); layout(); }
  document.getElementById("zoom-in").onclick = () => zoom(0.5);
  document.getElementById("zoom-out").onclick = () => zoom(2);
  document.getElementById("zoom-all").onclick = () => { t0 = 0; span = END; layout(); };
  pan.oninput = () => { t0 = +pan.value; layout(); };
  const bySpeaker = document.getElementById("by-speaker");
  const byLabel = document.getElementById("by-label");
  function filter() { rects.forEach((r) => { const t = turns[+r.dataset.i];
    const off = (bySpeaker.value && t.speaker !== bySpeaker.value) ||
      (byLabel.value && (t.label || "%UNPREDICTED%") !== byLabel.value);
    r.classList.toggle("off", !!off); }); }
  bySpeaker.onchange = filter; byLabel.onchange = filter;
  function show(r, x, y) { const t = turns[+r.dataset.i];
    tip.replaceChildren();
    const line = (k, v) => {
      const d = document.createElement("div"), b = document.createElement("b");
      b.textContent = k; d.append(b, document.createTextNode(v == null || v === "" ? "-" : v));
      tip.appendChild(d); };
    line("time", t.start.toFixed(2) + " - " + t.end.toFixed(2) + " s (" + fmt(t.start) + ")");
    line("speaker", t.speaker); line("face track", t.face_track);
    line("label", t.label ? t.label + " (" + t.confidence.toFixed(2) + ")" : "%UNPREDICTED%");
    line("probabilities",
      t.probs ? t.probs.map((p, i) => LABELS[i] + " " + p.toFixed(2)).join(", ") : null);
    line("modalities", t.modalities); line("note", t.note); line("text", t.text);
    tip.style.left = (x + 12) + "px"; tip.style.top = (y + 12) + "px";
    tip.style.display = "block"; }
  const LABELS = JSON.parse(document.getElementById("labels").textContent);
  rects.forEach((r) => {
    r.addEventListener("mouseenter", (e) => show(r, e.pageX, e.pageY));
    r.addEventListener("mousemove", (e) => show(r, e.pageX, e.pageY));
    r.addEventListener("focus", () => { const b = r.getBoundingClientRect();
      show(r, b.left + window.scrollX, b.bottom + window.scrollY); });
    r.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    r.addEventListener("blur", () => { tip.style.display = "none"; });
  });
  layout();
})();
""".replace("%UNPREDICTED%", UNPREDICTED)


def script_json(value) -> str:
    """``value`` as JSON safe inside ``<script>``: no ``<``, ``>`` or ``&`` left to end
    the element or start a comment (``</script>``, ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def speakers(rows: list[dict]) -> list[str]:
    """Lane names in order: ``S1``, ``S2``... (a turn without speaker: ``?``, last)."""
    names = {r["speaker"] or "?" for r in rows}
    return sorted(names - {"?"}, key=lambda s: (len(s), s)) + (["?"] if "?" in names else [])


def turn_title(r: dict) -> str:
    """The turn in one line of plain text (the SVG ``<title>``: shown without JavaScript)."""
    label = f"{r['label']} ({r['confidence']:.2f})" if r["label"] else UNPREDICTED
    parts = [f"{r['start']:.2f}-{r['end']:.2f} s", r["speaker"] or "?", label]
    parts += [f"note: {r['note']}"] if r["note"] else []
    parts += [r["text"]] if r["text"] else []
    return " | ".join(parts)


def lanes_svg(rows: list[dict]) -> str:
    """The SVG: a lane per speaker, a focusable rectangle per turn (``data-name``: its
    clip's name), laid out over the whole video (the script redraws it on zoom)."""
    lanes = speakers(rows)
    lane = {s: i for i, s in enumerate(lanes)}
    end = max([r["end"] for r in rows] + [1.0])
    k = WIDTH / end
    height = LANE * len(lanes)
    out = [
        f"<svg id='lanes' xmlns='http://www.w3.org/2000/svg' role='img' "
        f"viewBox='0 0 {LEFT + WIDTH + 10} {height + 22}' width='100%' "
        f"data-width='{WIDTH}' data-left='{LEFT}' data-end='{end:.3f}' data-lanes='{height}'>",
        "<defs><pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
        "patternTransform='rotate(45)'><rect width='6' height='6' fill='#f4f4f4'/>"
        "<line x1='0' y1='0' x2='0' y2='6' stroke='#999' stroke-width='2'/></pattern>"
        f"<clipPath id='plot'><rect x='{LEFT}' y='0' width='{WIDTH}' height='{height}'/>"
        "</clipPath></defs>",
    ]
    for s, i in lane.items():
        fill = "#fafafa" if i % 2 else "#f0f0f0"
        out.append(
            f"<rect x='{LEFT}' y='{i * LANE}' width='{WIDTH}' height='{LANE}' fill='{fill}'/>"
            f"<text x='{LEFT - 8}' y='{i * LANE + LANE / 2 + 4}' text-anchor='end' "
            f"font-size='13'>{_esc(s)}</text>"
        )
    out.append("<g id='axis'></g><g clip-path='url(#plot)'>")
    for i, r in enumerate(rows):
        y = lane[r["speaker"] or "?"] * LANE + 4
        x, w = LEFT + r["start"] * k, max(1.0, (r["end"] - r["start"]) * k)
        if r["label"] is None:
            paint = "fill='url(#hatch)'"
        else:
            opacity = min(1.0, 0.25 + 0.75 * float(r["confidence"]))
            paint = f"fill='{COLOURS[r['label']]}' fill-opacity='{opacity:.3f}'"
        out.append(
            f"<rect class='turn' tabindex='0' data-i='{i}' data-name='{_esc(r['name'])}' "
            f"x='{x:.2f}' y='{y}' width='{w:.2f}' height='{LANE - 8}' {paint}>"
            f"<title>{_esc(turn_title(r))}</title></rect>"
        )
    out.append("</g></svg>")
    return "\n".join(out)


def legend() -> str:
    items = [f"<span><i style='background:{COLOURS[lab]}'></i>{lab}</span>" for lab in LABELS]
    items.append(
        "<span><i style='background:repeating-linear-gradient(45deg,#f4f4f4 0 3px,#999 3px 5px)'>"
        f"</i>{UNPREDICTED}</span>"
    )
    return (
        "<div class='legend'>"
        + "".join(items)
        + " <span class='note'>opacity: the label's probability</span></div>"
    )


def table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table of already escaped cells (no header row when ``header`` is empty);
    columns in ``numeric`` right-aligned."""
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>\n" if header else ""
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{c}</td>" if j in numeric else f"<td>{c}</td>"
            for j, c in enumerate(row)
        )
        + "</tr>\n"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def summary_table(summary: pa.Table) -> str:
    """Per speaker: turns, turns not predicted, predicted seconds and each emotion's share
    of them (``APPLY_SUMMARY``)."""
    header = ["speaker", "turns", "not predicted", "seconds"] + [f"{lab} %" for lab in LABELS]
    rows = [
        [_esc(r["speaker"]), str(r["turns"]), str(r["unpredicted_turns"]), _num(r["seconds"], 1)]
        + [_num(100 * r[f"share_{lab}"], 1) for lab in LABELS]
        for r in summary.to_pylist()
    ]
    return table(header, rows, numeric=set(range(1, len(header))))


def turns_table(rows: list[dict]) -> str:
    header = ["start", "end", "speaker", "face track", "label", "p", "modalities", "note", "text"]
    cells = [
        [_num(r["start"]), _num(r["end"]), _esc(r["speaker"]), _esc(r["face_track"])]
        + [_esc(r["label"] or UNPREDICTED), _num(r["confidence"]), _esc(r["modalities"])]
        + [_esc(r["note"]), _esc(r["text"])]
        for r in rows
    ]
    return table(header, cells, numeric={0, 1, 5})


def _options(values: list[str], everything: str) -> str:
    return f"<option value=''>{everything}</option>" + "".join(
        f"<option value='{_esc(v)}'>{_esc(v)}</option>" for v in values
    )


def timeline_page(timeline: pa.Table, title: str) -> str:
    """The whole page of one video's ``APPLY_TIMELINE`` table."""
    rows = sorted(timeline.to_pylist(), key=lambda r: (r["start"], r["name"]))
    data = [
        {k: r[k] for k in ("name", "start", "end", "speaker", "face_track", "label")}
        | {k: r[k] for k in ("confidence", "modalities", "note", "text")}
        | {"probs": None if r["label"] is None else [r[c] for c in PROB_COLUMNS]}
        for r in rows
    ]
    predicted = sum(r["label"] is not None for r in rows)
    controls = (
        "<div class='controls'><button id='zoom-in'>zoom in</button>"
        "<button id='zoom-out'>zoom out</button><button id='zoom-all'>whole video</button>"
        "<label>pan <input id='pan' type='range' min='0' max='0' value='0'></label>"
        "<span id='window'></span>"
        f"<label>speaker <select id='by-speaker'>{_options(speakers(rows), 'all')}</select></label>"
        f"<label>label <select id='by-label'>{_options([*LABELS, UNPREDICTED], 'all')}"
        "</select></label></div>"
    )
    body = (
        f"<p class='note'>{len(rows)} turns, {predicted} predicted, "
        f"{len(speakers(rows))} speaker(s). Hover or Tab to a turn for its details.</p>\n"
        f"{controls}\n{legend()}\n{lanes_svg(rows)}\n"
        "<h3>Share of speaking time per emotion</h3>\n"
        f"{summary_table(summarise(timeline))}\n"
        f"<details><summary>All {len(rows)} turns</summary>\n{turns_table(rows)}\n</details>\n"
        "<div id='tip' role='tooltip'></div>\n"
        f"<script type='application/json' id='turns'>{script_json(data)}</script>\n"
        f"<script type='application/json' id='labels'>{script_json(list(LABELS))}</script>\n"
        f"<script>{SCRIPT}</script>"
    )
    return page(f"Emotion timeline: {title}", body)


def page(title: str, body: str) -> str:
    """A self-contained HTML page (inline style, nothing fetched)."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n<h2>{_esc(title)}</h2>\n{body}\n</body></html>\n"
    )
