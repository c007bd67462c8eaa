"""merlib.progress: timestamped done/total, rate and ETA, at most every ``every`` seconds."""

import logging
import re

from merlib.progress import Progress


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_logs_rate_and_eta_at_most_every_interval_and_at_the_end(caplog):
    clock = Clock()
    progress = Progress("media", 100, every=30.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="merlib.progress"):
        for _ in range(99):
            clock.t += 1.0  # one clip per second
            progress.update()
        clock.t += 1.0
        progress.update()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4  # at 30, 60, 90 s and at the last clip
    assert re.match(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d media: 30/100 clips \(30\.0%\), 1\.00 clips/s, "
        r"elapsed 0:00:30, ETA 0:01:10$",
        lines[0],
    ), lines[0]
    assert "100/100 clips (100.0%)" in lines[-1] and "ETA 0:00:00" in lines[-1]


def test_progress_without_elapsed_time_has_an_unknown_eta():
    progress = Progress("x", 10, clock=Clock())
    assert progress.line().endswith("ETA unknown")
