"""The README's picture of the report's first page, remade from a demo run.

    make demo                                  # results/report.html
    .venv/bin/python bench/report_screenshot.py [--report results/report.html]
        [--out docs/img/report-first-page.png] [--size 1400,1000]

Renders the report in headless Chromium (Debian's ``chromium``: ``apt-get install
chromium``), the way the e2e report test does (no sandbox, nothing fetched, a fresh
profile, ten seconds of virtual time for the report's scripts), and writes a PNG of the
first screen. Rerun it whenever the report's first page changes, and commit the PNG.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
)


def screenshot(report: Path, out: Path, size: tuple[int, int]) -> Path:
    """Write a PNG of ``report``'s first screen (``size`` = width, height) to ``out``."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    if not report.is_file():
        sys.exit(f"{report} does not exist: run `make demo` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={out.resolve()}",
            report.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not out.is_file():
        sys.exit(f"chromium failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPO / "results" / "report.html")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "report-first-page.png")
    parser.add_argument("--size", default="1400,1000", help="width,height in pixels")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split(","))
    out = screenshot(args.report, args.out, (width, height))
    print(f"{out}: {out.stat().st_size:,} bytes, {width}x{height} px, from {args.report}")


if __name__ == "__main__":
    main()
