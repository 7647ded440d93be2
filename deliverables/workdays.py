"""Working days for the sheets, as a table: ``dlv_workdays(day, ordinal)``.

``ordinal`` numbers the working days (Monday–Friday minus the policy's holidays plus its make-up days, the calendar of
workflow/calendar.py); a weekend or holiday gets the number of the next working day. Two dates' ordinals differ by the
working days between them, so 剩余天数 and 逾期天数 are a join and a subtraction: a task due next Monday has 5 working
days left on a Monday, and a delivery date that is not a working day counts as the next working day (on Saturday, a
task due on Friday is 1 working day overdue, one due on Monday has 0 left).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from fangfanpin.config.policy import Workflow
from fangfanpin.core.arrow import registered


def ordinals(start: date, end: date, wf: Workflow) -> pl.DataFrame:
    """One row per calendar day of [start, end]: ``day``, ``working`` and ``ordinal``."""
    days = pl.date_range(start, end, "1d", eager=True).alias("day")
    frame = pl.DataFrame(days).with_columns(
        working=(pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(sorted(wf.holidays))
        | pl.col("day").is_in(sorted(wf.makeup_working_days))
    )
    return frame.with_columns(ordinal=pl.col("working").cast(pl.Int32).cum_sum() + (~pl.col("working")).cast(pl.Int32))


def prepare_workdays(con: duckdb.DuckDBPyConnection, day: date, wf: Workflow) -> None:
    """Temp table ``dlv_workdays`` covering ``day`` and every due, opening and state date the day's sheets read."""
    low, high = con.execute(
        """
        SELECT least(min(lo), ?::DATE), greatest(max(hi), ?::DATE) FROM (
            SELECT least(min(due_date), min(opened_date), min(state_since)) AS lo, max(due_date) AS hi
            FROM case_status_daily WHERE as_of_date = ?
            UNION ALL
            SELECT min(due_date), max(due_date) FROM visit_tasks WHERE processed_date <= ?)""",
        [day, day, day, day],
    ).fetchall()[0]
    frame = ordinals(low - timedelta(days=7), high + timedelta(days=7), wf).select("day", "ordinal")
    with registered(con, "dlv_workdays_frame", frame):
        con.execute("CREATE OR REPLACE TEMP TABLE dlv_workdays AS SELECT * FROM dlv_workdays_frame").fetchall()


TODAY = "(SELECT ordinal FROM dlv_workdays WHERE day = $d)"  # the delivery date's working-day number


def ordinal(column: str) -> str:
    """SQL: the working-day number of ``column`` (needs ``prepare_workdays``); differences are working days."""
    return f"(SELECT w.ordinal FROM dlv_workdays w WHERE w.day = {column})"
