"""Progress of a long job, in its log: clips done / total, rate, ETA, with a timestamp.

A :class:`Progress` logs at most once every ``every`` seconds (and always at the last
clip), so a shard of thousands of clips writes a line every ~30 s to its rule's log file
(``logs/<rule>/<wildcards>.log``), where ``tail -f`` shows it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """Counts items of ``what`` done out of ``total`` and logs rate and ETA now and then."""

    def __init__(
        self,
        what: str,
        total: int,
        every: float = 30.0,
        unit: str = "clips",
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ):
        self.what, self.total, self.every, self.unit = what, total, every, unit
        self.clock = clock
        self.logger = logger or log
        self.done = 0
        self.start = self.last = clock()

    def line(self) -> str:
        """The progress line as it is now."""
        elapsed = self.clock() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = _duration(left / rate) if rate > 0 else "unknown"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        stamp = datetime.now().isoformat(sep=" ", timespec="seconds")
        return (
            f"{stamp} {self.what}: {self.done}/{self.total} {self.unit} ({pct:.1f}%), "
            f"{rate:.2f} {self.unit}/s, elapsed {_duration(elapsed)}, ETA {eta}"
        )

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items done; log when ``every`` seconds passed or all are done."""
        self.done += n
        now = self.clock()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            self.logger.info("%s", self.line())


__all__ = ["Progress"]
