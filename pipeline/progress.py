"""Progress of a command that runs several delivery dates: date n of N, the time elapsed and an estimate of the time
left, one line per date as it starts (docs/operations.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date


def clock_text(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on.

    >>> clock_text(5.4), clock_text(754), clock_text(3725)
    ('0:05', '12:34', '1:02:05')
    """
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts the dates run so far. The estimate is the mean time of the dates finished so far times the dates
    left: the first, full delivery and a training run make the early figures high, and they settle as dates pass."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.done, self._clock = total, 0, clock
        self._started = clock()

    def elapsed(self) -> float:
        return self._clock() - self._started

    def starting(self, day: date, total: int | None = None) -> str:
        """The line printed as ``day`` starts; ``total``: the dates of the whole command as now known (the demo plans
        again after each date)."""
        if total is not None:
            self.total = total
        n, seconds = self.done + 1, self.elapsed()
        if not self.done:
            return f"[{n}/{self.total}] {day} 开始 / date {n} of {self.total}: starting"
        elapsed, left = clock_text(seconds), clock_text(seconds / self.done * (self.total - self.done))
        return (
            f"[{n}/{self.total}] {day} 已用 {elapsed}，预计还需 {left} / date {n} of {self.total}: {elapsed} elapsed, "
            f"about {left} left"
        )

    def finished(self) -> None:
        self.done += 1
