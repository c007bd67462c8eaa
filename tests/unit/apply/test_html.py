"""The timeline's interactive page and the apply run's report page: structure, lanes,
escaping of transcript text, notes of turns not predicted, and (headless Chromium) that
the page renders and a focused turn shows its details."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest
from apply_rows import timeline_row
from e2e_helpers import chromium, chromium_binary, visible_text

from merlib.apply.html import UNPREDICTED, script_json, timeline_page
from merlib.apply.report import apply_report, coverage
from merlib.labels import LABELS, PROB_COLUMNS
from merlib.schemas import APPLY_TIMELINE, table_from_rows

HOSTILE = "<script>alert('x')</script> & </b> <!-- café"


def _row(start, end, speaker, label, text="hello", note=None, face=None, modalities=None):
    full = "audio,text,visual" if label else ""
    return timeline_row(start, end, speaker, label, text, note, face, modalities or full, p=0.8)


ROWS = [
    _row(0.5, 2.0, "S1", "happy", "bonjour", face="t0"),
    _row(2.5, 6.5, "S2", "angry", HOSTILE, modalities="audio,text", note="no face: 2 faces"),
    _row(7.0, 8.0, "S1", None, "", "not predicted: no usable feature"),
    _row(9.0, 12.0, "S3", "sad", "au revoir"),
    _row(12.5, 13.0, None, None, None, "no video track: audio only"),
]
TIMELINE = table_from_rows(ROWS, APPLY_TIMELINE)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def _turn_data(page: str) -> list[dict]:
    found = re.search(r"<script type='application/json' id='turns'>(.*?)</script>", page, re.S)
    return json.loads(found[1])


def test_one_lane_per_speaker_and_one_focusable_rectangle_per_turn():
    page = timeline_page(TIMELINE, "v")
    tags = _parse(page).tags
    turns = [a for t, a in tags if t == "rect" and a.get("class") == "turn"]
    assert [a["data-name"] for a in turns] == [r["name"] for r in ROWS]
    assert all(a["tabindex"] == "0" for a in turns)
    lanes = re.findall(r"text-anchor='end' font-size='13'>([^<]*)</text>", page)
    assert lanes == ["S1", "S2", "S3", "?"]
    ys = {r["speaker"]: float(a["y"]) for r, a in zip(ROWS, turns, strict=True)}
    assert len(set(ys.values())) == 4  # the two S1 turns share a lane (checked below)
    assert float(turns[0]["y"]) == float(turns[2]["y"])


def test_colour_by_label_opacity_by_confidence_unpredicted_hatched():
    turns = [a for t, a in _parse(timeline_page(TIMELINE, "v")).tags if a.get("class") == "turn"]
    assert turns[0]["fill"] == "#ffbf00" and turns[1]["fill"] == "#d62728"
    assert float(turns[0]["fill-opacity"]) == pytest.approx(0.25 + 0.75 * 0.8)
    assert turns[2]["fill"] == "url(#hatch)" and "fill-opacity" not in turns[2]


def test_transcript_text_is_escaped_everywhere_and_no_script_is_added():
    page = timeline_page(TIMELINE, "v")
    parsed = _parse(page)
    assert [t for t, _ in parsed.tags].count("script") == 3  # two JSON blocks, the code
    assert "<script>alert" not in page and "</b> <!--" not in page
    assert html.escape(HOSTILE) in page  # the turns table and the SVG title
    assert _turn_data(page)[1]["text"] == HOSTILE  # the JSON gives it back intact
    assert "<" not in script_json({"t": HOSTILE}) and "&" not in script_json({"t": HOSTILE})


def test_notes_of_missing_modalities_and_unpredicted_turns_are_shown():
    page = timeline_page(TIMELINE, "v")
    data = _turn_data(page)
    assert data[2]["label"] is None and data[2]["probs"] is None
    assert data[1]["modalities"] == "audio,text" and data[1]["note"] == "no face: 2 faces"
    assert data[0]["probs"] == pytest.approx(
        [0.8 if c == "p_happy" else 0.04 for c in PROB_COLUMNS]
    )
    text = visible_text(page)
    for note in ("not predicted: no usable feature", "no video track: audio only", "no face"):
        assert note in text
    assert f"{UNPREDICTED} | note: not predicted: no usable feature" in page  # SVG title


def test_legend_filters_and_summary_table():
    page = timeline_page(TIMELINE, "v")
    text = visible_text(page)
    for label in LABELS:
        assert label in text
    options = [a.get("value") for t, a in _parse(page).tags if t == "option"]
    assert options == ["", "S1", "S2", "S3", "?", "", *LABELS, UNPREDICTED]
    # summary: S1 spoke 1.5 s happy (its unpredicted turn does not count)
    assert re.search(r"<td>S1</td><td class='num'>2</td><td class='num'>1</td>"
                     r"<td class='num'>1.5</td><td class='num'>0.0</td><td class='num'>0.0</td>"
                     r"<td class='num'>100.0</td>", page)  # fmt: skip
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_report_page_names_the_card_and_links_each_videos_files():
    card = {
        "features": [{"name": "egemaps", "dim": 88, "options": {"modality": "audio"}}],
        "labels": list(LABELS),
        "folds": 5,
        "fusion": {"hidden_dim": 128},
        "training_data": {"labelled_clips": 30, "sha256": "ab" * 32},
        "merflow_version": "0.1.0",
    }
    other = table_from_rows([_row(0.0, 10.0, None, None, None, "no audio track")], APPLY_TIMELINE)
    page = apply_report(card, {"v": TIMELINE, "film 2": other}, 1_700_000_000.0)
    text = visible_text(page)
    assert "egemaps (audio, 88-d)" in text and "2023-11-14 22:13 UTC" in text
    for link in ("v/timeline.html", "v/timeline.png", "v/v.emotions.srt"):
        assert f"href='{link}'" in page
    assert "href='film%202/timeline.html'" in page
    assert "5 turns over 13.0 s, 3 predicted" in text and "speakers: S1, S2, S3, ?" in text
    assert "no audio track" in text and "<script>" not in page
    c = coverage(ROWS)
    assert c["coverage"] == pytest.approx((1.5 + 4 + 3) / (1.5 + 4 + 1 + 3 + 0.5))


@pytest.mark.skipif(not chromium_binary(), reason="needs Debian's chromium (.ci/run installs it)")
def test_page_renders_in_chromium_and_a_focused_turn_shows_its_text(tmp_path):
    """Headless Chromium: the script draws the time axis, focusing the hostile turn shows
    its text (as text: no alert, no new element), and the label filter hides turns."""
    probe = """<script>
    window.addEventListener("load", () => setTimeout(() => {
      const turns = document.querySelectorAll("svg .turn");
      turns[1].focus();
      const tip = document.getElementById("tip");
      const out = {tip: tip.textContent, shown: tip.style.display,
        ticks: document.querySelectorAll("#axis text").length,
        injected: document.querySelectorAll("b script, #tip *:not(div):not(b)").length};
      document.getElementById("zoom-in").click();
      out.zoomed = document.getElementById("window").textContent;
      const sel = document.getElementById("by-label"); sel.value = "angry";
      sel.dispatchEvent(new Event("change"));
      out.hidden = [...turns].filter((r) => r.classList.contains("off")).length;
      const pre = document.createElement("pre"); pre.id = "probe";
      pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
    }, 300));
    </script>"""
    page = tmp_path / "timeline.html"
    page.write_text(timeline_page(TIMELINE, "v") + probe, encoding="utf-8")
    dom = chromium(page, tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: the page's script failed"
    out = json.loads(html.unescape(found[1]))
    assert out["shown"] == "block" and HOSTILE in out["tip"], out
    for shown in ("2.50 - 6.50 s", "S2", "angry (0.80)", "audio,text", "no face: 2 faces"):
        assert shown in out["tip"], out
    assert out["ticks"] >= 5 and out["injected"] == 0, out
    assert out["zoomed"] == "0:03.3 - 0:09.8", out
    assert out["hidden"] == len(ROWS) - 1, out
    shot = tmp_path / "shot.png"
    chromium(page, tmp_path / "shot-profile", "--window-size=1200,700", f"--screenshot={shot}")
    assert shot.stat().st_size > 5000
