"""Dates given to the command, written YYYY-MM-DD. A value that is not a real date is refused with one line in
Chinese and English (``UsageError``: exit 1, never a traceback). ``run --date`` and ``accept --date`` take a
delivery date the pipeline can run (``assets.delivery_runs.parse_day``: also not after today, not before the first
delivery date); the generator's window (``window``) takes any real dates, the first not after the last."""

from __future__ import annotations

import re
from datetime import date

from fangfanpin.assets.delivery_runs import DATE_FORMAT, UsageError


def real_date(text: str, option: str) -> date:
    """Any real date written YYYY-MM-DD; ``option`` names where it was given (``--start``)."""
    day = None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:  # 2026-13-01, 2026-02-30
            pass
    if day is None:
        raise UsageError(
            f"{option} {text!r} 不是有效的日期，应为 {DATE_FORMAT}，例如 2026-09-17 / {option} {text!r} is not a "
            f"valid date: {DATE_FORMAT} expected, e.g. 2026-09-17"
        )
    return day


def window(start: str, end: str) -> tuple[date, date]:
    """The generator's first and last date (``--start``, ``--end``), the first not after the last."""
    first, last = real_date(start, "--start"), real_date(end, "--end")
    if first > last:
        raise UsageError(f"--start {first} 晚于 --end {last} / --start {first} is after --end {last}")
    return first, last
