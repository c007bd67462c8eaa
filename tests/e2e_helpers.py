"""Helpers for the scale-out e2e tests: run snakemake under a timeout, make small releases
from the demo corpus, and compare two runs' outputs as tables (never as bytes)."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1200  # every snakemake call in tests runs under a timeout
# `snakemake --use-conda` in tests (tests/conda/README.md): the shim `conda` first on PATH,
# envs and uv's downloads in a cache shared by every run of this checkout (ignored by git;
# $MERFLOW_ENV_CACHE moves it, e.g. to a folder CI keeps between runs).
CONDA_SHIM = REPO / "tests" / "conda"
ENV_CACHE = Path(os.environ.get("MERFLOW_ENV_CACHE") or REPO / ".cache" / "envs")
USE_CONDA = ("--use-conda", "--conda-prefix", str(ENV_CACHE / "conda"))


def conda_shim_environment(guard_log: Path, envs_dir: Path = REPO / "envs") -> dict[str, str]:
    """Environment variables for a snakemake --use-conda run on the shim; the guard appends
    one JSON line per job script to ``guard_log`` (rule, env file, prefix, executable)."""
    return {
        **os.environ,
        "PATH": f"{CONDA_SHIM / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MERFLOW_SHIM_PYTHON": sys.executable,
        "MERFLOW_ENV_CACHE": str(ENV_CACHE),
        "MERFLOW_GUARD_ENVS": str(envs_dir),
        "MERFLOW_GUARD_LOG": str(guard_log),
    }


def guard_records(guard_log: Path) -> list[dict]:
    text = guard_log.read_text() if guard_log.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


DEMO_OUTPUTS = ("label-disdim.csv", "label-transcription.csv", "test-labels.csv")


def snakemake(
    workdir: Path, *args: str, timeout: int = TIMEOUT, **popen
) -> subprocess.CompletedProcess:
    """One snakemake call on merflow's Snakefile in ``workdir``; output captured."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run(
        cmd + list(args), capture_output=True, text=True, timeout=timeout, env=os.environ, **popen
    )


def failed(proc: subprocess.CompletedProcess) -> str:
    return f"rc={proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"


def demo_corpus(scratch: Path) -> Path:
    """A built demo corpus: $MERFLOW_DEMO_CORPUS, the checkout's own, or one built here."""
    for candidate in (os.environ.get("MERFLOW_DEMO_CORPUS"), REPO / "resources" / "demo"):
        if candidate and all((Path(candidate) / f).is_file() for f in DEMO_OUTPUTS):
            return Path(candidate)
    proc = snakemake(
        scratch, "--configfile", str(REPO / "config.yaml"), "--cores", "2", "make_demo_corpus"
    )
    assert proc.returncode == 0, failed(proc)
    return scratch / "resources" / "demo"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def make_release(corpus: Path, dest: Path, per_class: int, unlabelled: int) -> Path:
    """A MER2024-layout release holding the first clips of each class of the demo corpus.

    Writes ``test-labels.csv`` (the unlabelled clips' labels) beside it for evaluation.
    """
    labels = read_csv(corpus / "label-disdim.csv")
    texts = {r["name"]: r["chinese"] for r in read_csv(corpus / "label-transcription.csv")}
    test_labels = read_csv(corpus / "test-labels.csv")
    chosen: list[dict] = []
    for label in sorted({r["discrete"] for r in labels}):
        chosen += [r for r in labels if r["discrete"] == label][:per_class]
    pool = test_labels[:unlabelled]
    for folder in ("video-labeled", "video-unlabeled-with-test2noise"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    for r in chosen:
        shutil.copy(corpus / "video-labeled" / f"{r['name']}.mp4", dest / "video-labeled")
    for r in pool:
        src = corpus / "video-unlabeled-with-test2noise" / f"{r['name']}.mp4"
        shutil.copy(src, dest / "video-unlabeled-with-test2noise")
    write_csv(
        dest / "label-disdim.csv",
        ["name", "discrete"],
        [[r["name"], r["discrete"]] for r in chosen],
    )
    names = [r["name"] for r in chosen + pool]
    write_csv(dest / "label-transcription.csv", ["name", "chinese"], [[n, texts[n]] for n in names])
    write_csv(
        dest / "test-labels.csv", ["name", "discrete"], [[r["name"], r["discrete"]] for r in pool]
    )
    return dest


CONFIGS = REPO / "tests" / "configs"


def config_path(name: str) -> Path:
    """``tests/configs/<name>/config.yaml``: a scenario's overlay, given after config.yaml."""
    path = CONFIGS / name / "config.yaml"
    assert path.is_file(), f"no test config {path}"
    return path


def overlay(name: str, path: Path, **settings) -> Path:
    """The scenario ``name``'s overlay with this run's ``settings`` (paths made at test
    time) merged in, one level deep, written to ``path``."""
    config = yaml.safe_load(config_path(name).read_text(encoding="utf-8"))
    for key, value in settings.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def write_config(path: Path, release: Path, name: str = "small-release") -> Path:
    """The overlay of a scenario run on a small ``release`` (``data_root`` and its
    ``test-labels.csv`` filled in), written to ``path``."""
    evaluate = {"test_labels": str(release / "test-labels.csv")}
    return overlay(name, path, data_root=str(release), evaluate=evaluate)


def config_args(overlay: Path) -> list[str]:
    return ["--configfile", str(REPO / "config.yaml"), str(overlay)]


# What reads the labels (the manifest) beside the per-shard jobs, downstream of fusion: what
# a label change, or a forced train_fusion, reruns
TRAINING_AND_EVALUATION = frozenset(
    {
        "train_fusion",
        "predict_unlabelled",
        "write_submission",  # the submission CSV from the chosen model's predictions
        "evaluate_predictions",
        "account_clips",
        # the report's summary page and its HTML tables (per_class.html reads evaluate's TSV)
        "render_report_summary",
        "render_report_tables",
    }
)
PLANNED_JOB = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):\n((?:    .*\n)*)", re.M)


def planned_jobs(proc: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run's output lists, checkpoints included and
    `all` aside, sorted."""
    assert proc.returncode == 0, failed(proc)
    jobs = []
    for rule, body in PLANNED_JOB.findall(proc.stdout + proc.stderr):
        wildcards = re.search(r"wildcards: (.*)", body)
        if rule != "all":
            jobs.append((rule, wildcards[1] if wildcards else ""))
    return sorted(jobs)


# What a run leaves that tools read; compared between runs.
COMPARED_PARQUET = (
    "results/ingest/manifest.parquet",
    "results/ingest/rejects.parquet",
    "results/media/*/rejects.parquet",
    "results/features/*/*.parquet",
    "results/feature_rejects/*/*.parquet",
    "results/fusion/oof.parquet",
    "results/predictions/unlabelled.parquet",
    "results/predictions/fallbacks.parquet",
    "results/metrics/accounting.parquet",
)


def _sorted_rows(table: pa.Table) -> pa.Table:
    keys = [c for c in ("split", "name", "modality", "reason") if c in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys]) if keys else table


def assert_tables_equal(a: Path, b: Path, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Same schema, same rows (in key order), floats equal within a tolerance."""
    ta, tb = _sorted_rows(pq.read_table(a)), _sorted_rows(pq.read_table(b))
    assert ta.schema.equals(tb.schema), f"{a} vs {b}: schemas differ"
    assert ta.num_rows == tb.num_rows, f"{a} vs {b}: {ta.num_rows} vs {tb.num_rows} rows"
    for name in ta.column_names:
        ca, cb = ta.column(name).to_pylist(), tb.column(name).to_pylist()
        kind = ta.schema.field(name).type
        if (
            pa.types.is_floating(kind)
            or pa.types.is_list(kind)
            or pa.types.is_fixed_size_list(kind)
        ):
            np.testing.assert_allclose(
                np.asarray(ca, dtype=float),
                np.asarray(cb, dtype=float),
                rtol=rtol,
                atol=atol,
                err_msg=f"{a} vs {b}: column {name}",
            )
        else:
            assert ca == cb, f"{a} vs {b}: column {name} differs"


def assert_runs_equal(a: Path, b: Path) -> list[str]:
    """Every compared output of run ``a`` equals run ``b``'s. Returns the files compared."""
    compared = []
    for pattern in COMPARED_PARQUET:
        files_a = sorted(p.relative_to(a) for p in a.glob(pattern))
        files_b = sorted(p.relative_to(b) for p in b.glob(pattern))
        assert files_a == files_b, f"{pattern}: {files_a} vs {files_b}"
        for rel in files_a:
            assert_tables_equal(a / rel, b / rel)
            compared.append(str(rel))
    sub = "results/submission/mer2024-semi-noise.csv"
    assert read_csv(a / sub) == read_csv(b / sub)
    sa = json.loads((a / "results/metrics/summary.json").read_text())
    sb = json.loads((b / "results/metrics/summary.json").read_text())
    assert sa.keys() == sb.keys()
    for split in (k for k in sa if isinstance(sa[k], dict) and "waf" in sa[k]):
        for key in ("waf", "acc"):
            assert abs(sa[split][key] - sb[split][key]) < 1e-6, (split, key, sa, sb)
    return compared + [sub, "results/metrics/summary.json"]


def copy_run(src: Path, dest: Path) -> Path:
    """A copy of a finished run (outputs, logs and Snakemake's metadata, mtimes kept)."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


# Headless Chromium (Debian's chromium; .ci/run installs it), as root: no sandbox, nothing
# fetched from the network, a fresh profile per call.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(page: Path, profile: Path, *args: str, timeout: int = 300) -> str:
    """Render ``page`` in headless Chromium with ``args`` (--dump-dom, --screenshot=...);
    returns stdout (the DOM for --dump-dom)."""
    binary = chromium_binary()
    assert binary, "chromium is not installed (apt-get install chromium; .ci/run does it)"
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"chromium failed: rc={proc.returncode}\n{proc.stderr[-3000:]}"
    return proc.stdout


def visible_text(dom: str) -> str:
    """The text of a DOM outside <script> and <style>: what the page shows."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.skip, self.parts = 0, []

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


# Appended to a copy of the report: once the page has rendered, writes where each picture of
# the first page and its first table lie (CSS pixels, as laid out in the window) into a
# <pre id="merflow-layout"> that --dump-dom then shows.
LAYOUT_PROBE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, width: r.width, height: r.height}; };
  const root = document.querySelector(".merflow-headline");
  const out = {
    headline: root ? box(root) : null,
    first_table: root && root.querySelector("table") ? box(root.querySelector("table")) : null,
    images: [...document.querySelectorAll(".merflow-headline figure img")].map((img) =>
      Object.assign(box(img), {natural_width: img.naturalWidth, alt: img.alt})),
    figures: document.querySelectorAll(".merflow-headline figure").length,
  };
  const pre = document.createElement("pre");
  pre.id = "merflow-layout";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 1000));
</script>
"""


def report_layout(page: Path, scratch: Path, window: str = "1400,1000") -> dict:
    """Where the first page's pictures and first table lie in a ``window``-sized Chromium:
    ``{"headline", "first_table", "images": [{left, top, width, height, natural_width,
    alt}], "figures"}`` (boxes in CSS pixels from the window's top left)."""
    probe = scratch / "report-probe.html"
    probe.write_text(page.read_text(encoding="utf-8") + LAYOUT_PROBE, encoding="utf-8")
    dom = chromium(probe, scratch / "probe-profile", f"--window-size={window}", "--dump-dom")
    found = re.search(r'<pre id="merflow-layout">(.*?)</pre>', dom, re.S)
    assert found, "the layout probe did not run: the report's page did not load"
    return json.loads(html.unescape(found[1]))


def coloured_share(png: Path, box: tuple[int, int, int, int]) -> float:
    """Share of the pixels of ``png`` inside ``box`` (left, top, right, bottom) that are
    coloured (saturation above 60 of 255): pictures, not text on white."""
    import cv2

    image = cv2.imread(str(png))
    assert image is not None, f"cannot read {png}"
    left, top, right, bottom = box
    hsv = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_BGR2HSV)
    return float((hsv[..., 1] > 60).mean())
