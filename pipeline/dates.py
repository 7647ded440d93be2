"""Dates given to the command, written YYYY-MM-DD. A value that is not a real date is refused with one line in
Chinese and English (``UsageError``: exit 1, never a traceback). ``run --date`` and ``accept --date`` take a
delivery date the pipeline can run (``assets.delivery_runs.parse_day``: also not after today, not before the first
delivery date); the generator's window (``window``) takes any real dates, the first not after the last."""

from __future__ import annotations

from datetime import date

from fangfanpin.assets.delivery_runs import UsageError, real_date


def window(start: str, end: str) -> tuple[date, date]:
    """The generator's first and last date (``--start``, ``--end``), the first not after the last."""
    first, last = real_date(start, "--start"), real_date(end, "--end")
    if first > last:
        raise UsageError(f"--start {first} 晚于 --end {last} / --start {first} is after --end {last}")
    return first, last
