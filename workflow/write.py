"""Writing one day's decisions into the ledger tables, inside the ledger's transaction, then the day's
``case_status_daily`` (one row per case not closed, and per case closed that day) from the rebuilt ``cases``."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered
from fangfanpin.workflow.cases import rebuild_cases
from fangfanpin.workflow.decide import Decisions

# the columns whose rows may all be NULL on a day: typed, so that polars does not infer them as NULL columns
EVENT_TYPES = {
    "evidence": pl.Utf8,
    "source_row": pl.Int64,
    "severity": pl.Utf8,
    "task_id": pl.Utf8,
    "batch_id": pl.Utf8,
    "source_ref": pl.Utf8,
    "effective_date": pl.Date,
    "due_date": pl.Date,
    "unit": pl.Utf8,
    "source_file": pl.Utf8,
    "source_feed": pl.Utf8,
    "source": pl.Utf8,
    "evidence_zh": pl.Utf8,
    "rule_codes": pl.Utf8,
    "risk_types": pl.Utf8,
}
ISSUE_TYPES = {
    "row": pl.Int64,
    "file": pl.Utf8,
    "feed": pl.Utf8,
    "ref": pl.Utf8,
    "case_id": pl.Utf8,
    "household_id": pl.Utf8,
    "county_code": pl.Utf8,
}


def write_day(con: duckdb.DuckDBPyConnection, day: date, decisions: Decisions) -> None:
    """Append the day's rows; the caller holds the transaction."""
    _insert(con, "case_openings", decisions.openings)
    _insert(con, "case_events", decisions.events, EVENT_TYPES)
    _insert(con, "visit_tasks", decisions.tasks)
    _insert(con, "visit_task_closures", decisions.closures)
    _insert(con, "publication_batches", decisions.batches)
    _insert(con, "publication_members", decisions.members)
    _insert(con, "publication_outcomes", decisions.outcomes)
    _insert(con, "workflow_issues", decisions.issues, ISSUE_TYPES)
    _daily_status(con, day)


def _insert(con, table: str, rows: list[dict], schema: dict | None = None) -> None:
    if not rows:
        return
    frame = pl.DataFrame(rows, infer_schema_length=None, schema_overrides=schema)
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    for c in cols:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(c))
    with registered(con, "wf_rows", frame.select(cols)):
        con.execute(f"INSERT INTO {table} SELECT * FROM wf_rows")


def _daily_status(con, day: date) -> None:
    """Overdue: the day is later than the case's due date (``decide.day.Day.due``, in working days)."""
    rebuild_cases(con)
    con.execute(
        """
        INSERT INTO case_status_daily
        SELECT ?::DATE, c.case_id, c.county_code, c.township, c.village_code, c.household_id, c.sources, c.risk_types,
               c.rule_codes, c.state, c.state_since, c.due_date, coalesce(?::DATE > c.due_date, false),
               CASE WHEN ?::DATE > c.due_date THEN datediff('day', c.due_date, ?::DATE) END, c.green_channel,
               c.opened_date, t.task_id, b.batch_id
        FROM cases c
        LEFT JOIN (SELECT case_id, max(task_id) AS task_id FROM visit_task_status WHERE status = '待走访' GROUP BY 1) t USING (case_id)
        LEFT JOIN (SELECT m.case_id, max(m.batch_id) AS batch_id FROM publication_members m
                   LEFT JOIN publication_outcomes o USING (batch_id, household_id) WHERE o.batch_id IS NULL GROUP BY 1) b USING (case_id)
        WHERE c.state NOT IN ('不予纳入', '风险消除', '已纳入') OR c.state_since = ?::DATE
        ORDER BY c.case_id""",
        [day, day, day, day, day],
    )
