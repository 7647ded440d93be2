"""The case ledger: schema, idempotent daily runs, replay.

    result = run_workflow(con, date(2026, 10, 31))   # process one delivery date (re-runnable)
    con.sql("SELECT * FROM cases_asof(?)", params=[day]).pl()   # any processed day, replayed from the events

Every ledger table is append-only and tagged with ``processed_date``. Processing date D deletes what the runs of
D and later wrote and derives it again, in one transaction:
- D is new and the newest: process D.
- D was processed and is the newest: delete D's rows, process D again (byte-for-byte the same ledger).
- D is earlier than the newest processed date: **recompute forward**: delete every row of dates ≥ D and process
  D and each later processed date again, in order (their inputs are still in the warehouse). The ledger is never
  left half-done: one transaction, rolled back on any error.

A day is three steps (``process_day``): ``workflow.load`` reads the day's inputs into plain Python data (SQL selects
and aggregates: warnings over all households, elimination conditions, exclusion hits); ``workflow.decide`` runs the
state machine on that data alone, over the day's events only (small), in a deterministic order, so that each
transition stays readable and testable without a warehouse; ``workflow.write`` appends the rows it decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.sql import transaction
from fangfanpin.core.testhooks import kill_point
from fangfanpin.schema import ensure_schema as ensure_warehouse_schema
from fangfanpin.workflow.cases import rebuild_cases
from fangfanpin.workflow.chain import chain_events
from fangfanpin.workflow.decide import decide_day
from fangfanpin.workflow.load import load_day
from fangfanpin.workflow.write import write_day

LEDGER_TABLES = {  # table → the date column that says which run wrote the row
    "workflow_runs": "processed_date",
    "case_openings": "processed_date",
    "case_events": "processed_date",
    "visit_tasks": "processed_date",
    "visit_task_closures": "processed_date",
    "publication_batches": "processed_date",
    "publication_members": "processed_date",
    "publication_outcomes": "processed_date",
    "workflow_issues": "processed_date",
    "elimination_candidates": "as_of_date",
    "case_status_daily": "as_of_date",
    "ledger_chain": "processed_date",
}


class LedgerError(RuntimeError):
    """The ledger cannot process the date (the message is in Chinese and English)."""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse schema, and a ledger made before the hash chain hashed once, in ledger order."""
    ensure_warehouse_schema(con)
    if con.execute("SELECT count(*) FROM case_events WHERE event_hash IS NULL").fetchall()[0][0]:
        with transaction(con):
            chain_events(con)


def processed_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    return [r[0] for r in con.execute("SELECT processed_date FROM workflow_runs ORDER BY 1").fetchall()]


@dataclass
class WorkflowResult:
    delivery_date: date
    recomputed: list[date]  # the dates processed by this call, in order (more than one when recomputing forward)
    events: int
    cases_opened: int
    issues: int


def _delete_from(con: duckdb.DuckDBPyConnection, day: date) -> None:
    for table, column in LEDGER_TABLES.items():
        con.execute(f"DELETE FROM {table} WHERE {column} >= ?", [day])


def process_day(con: duckdb.DuckDBPyConnection, day: date, policy: Policy) -> tuple[int, int, int]:
    """Process one delivery date; returns (events, cases opened, issues). The caller holds the transaction."""
    decisions = decide_day(load_day(con, day, policy), policy)
    write_day(con, day, decisions)
    return len(decisions.events), len(decisions.openings), len(decisions.issues)


def run_workflow(
    con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None, *, recompute_forward: bool = True
) -> WorkflowResult:
    """Process delivery date ``day`` (see the module docstring for re-runs and earlier dates)."""
    policy = policy or load_policy()
    ensure_schema(con)
    done = processed_dates(con)
    later = [d for d in done if d > day]
    if later and not recompute_forward:
        raise LedgerError(
            f"案件台账已处理到 {done[-1]}，不能单独重跑更早的日期 {day}；请按日期顺序从 {day} 起重新计算。"
            f" / The case ledger has processed up to {done[-1]}; {day} is earlier and cannot be run alone: "
            f"recompute forward from {day} (run_workflow(..., recompute_forward=True))."
        )
    days = [day] + later
    with transaction(con):
        _delete_from(con, day)
        rebuild_cases(con)  # as the ledger stands before ``day``; each date's writing rebuilds it (write_day)
        totals = [0, 0, 0]
        for d in days:
            counts = process_day(con, d, policy.as_of(d))  # the values in force on each date
            totals = [a + b for a, b in zip(totals, counts)]
            con.execute("INSERT INTO workflow_runs VALUES (?, ?, ?, ?, ?)", [d, str(policy.path), *counts])
        chain_events(con, day)  # the suffix of the ledger order that this call rewrote (hashes only)
        kill_point("ledger")
    return WorkflowResult(day, days, *totals)


def ledger_dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every ledger table's rows in a canonical order (tests compare these for byte-for-byte replays)."""
    out = {}
    for table in list(LEDGER_TABLES) + ["cases"]:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        if table == "workflow_runs":
            cols = [c for c in cols if c != "policy_path"]
        order = ", ".join(f'"{c}"' for c in cols)
        out[table] = con.execute(f"SELECT {order} FROM {table} ORDER BY ALL").fetchall()
    return out
