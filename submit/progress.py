"""Progress inside a long stage: "SDTM 12/27 LB (41.3 s)" lines, at INFO once the stage has run for a
few seconds (a 36-subject build stays quiet, a 36,000-subject one shows where it is), else DEBUG."""

from __future__ import annotations

import logging
import time

SHOWN_AFTER = 5.0  # seconds into the stage before the steps are logged at INFO


class Progress:
    def __init__(self, log: logging.Logger, what: str, total: int):
        self.log, self.what, self.total = log, what, total
        self.started = time.perf_counter()
        self.done = 0

    def step(self, name: str, detail: str = "") -> None:
        """Log that step `name` (the next of `total`) is done."""
        self.done += 1
        elapsed = time.perf_counter() - self.started
        level = logging.INFO if elapsed >= SHOWN_AFTER else logging.DEBUG
        self.log.log(level, "  %s %d/%d %s%s (%.1f s)", self.what, self.done, self.total, name,
                     f": {detail}" if detail else "", elapsed)
