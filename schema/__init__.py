"""The warehouse schema, owned in one place: every table and macro of every stage, created together.

    ensure_schema(con)    # every table exists afterwards; cheap when nothing changed (one lookup)

A stage never creates its own tables and never asks whether a table exists: whatever opens the warehouse for a run
(the Dagster resource, a stage called on its own, a test) calls ``ensure_schema`` first. The DDL is the SQL files
of ``schema/sql/`` (one per stage) and the feed tables with their point-in-time macros made from the data contracts
(``schema.feeds``). A digest of all of it is kept in ``ffp_schema``: the statements run again only when they change
(a new contract, a new column), since each is a commit on disk.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

from fangfanpin.core.sql import run_file, statements
from fangfanpin.schema.feeds import EXTRA, FILE, FILE_SEQ, ROW, SQL_TYPES, asof_macro_sql, feed_ddl, q, stored_under

__all__ = [
    "EXTRA",
    "FILE",
    "FILE_SEQ",
    "ROW",
    "SQL_TYPES",
    "asof_macro_sql",
    "ensure_schema",
    "keep_scored_day",
    "q",
    "roster_persons",
    "run_ddl_once",
    "stored_under",
]

SQL_DIR = Path(__file__).parent / "sql"
STAGES = ("ingest", "crosscheck", "scoring", "workflow", "runs")  # schema/sql/<stage>.sql, in this order
COMPONENT = "warehouse"


@cache
def warehouse_ddl() -> tuple[str, ...]:
    """Every statement that makes the warehouse, in order: the ingest tables, the feeds and the roster in force on a
    date (``sql/roster.sql``), then each later stage."""
    ddl = [*statements(SQL_DIR / "ingest.sql"), *feed_ddl(), *statements(SQL_DIR / "roster.sql")]
    for stage in STAGES[1:]:
        ddl += statements(SQL_DIR / f"{stage}.sql")
    return tuple(ddl)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    if run_ddl_once(con, COMPONENT, warehouse_ddl()):
        keep_scored_day(con, date.min)  # a warehouse scored before the kept tables existed gets them from its history


def roster_persons(con: duckdb.DuckDBPyConnection, day: date) -> str:
    """The table macro of the roster in force on ``day``, one row per person, for a caller that reads it for every
    feed: ``roster_in_force``, or ``roster_asof`` when every county's roster in force came the same day, which then
    lists each person once already (``sql/roster.sql``) and is read without checking it.

    The versions in force are counted (``snapshot_versions_in_force``, a row per county), not the roster's rows:
    the rows' dates are among those versions, so one version means one date, and two versions (one of them without
    rows, at worst) only choose ``roster_in_force``, which gives the same rows, checked."""
    (versions,) = con.execute(
        "SELECT count(DISTINCT version) FROM snapshot_versions_in_force('roster', ?::DATE)", [day]
    ).fetchall()[0]
    return "roster_in_force" if versions > 1 else "roster_asof"


def keep_scored_day(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Bring the tables kept beside household_scores (first flag dates, households scored per county and date) up to
    date after its rows from ``day`` on were rewritten (``sql/scored_day.sql``)."""
    run_file(con, SQL_DIR / "scored_day.sql", {"d": day})


def run_ddl_once(con: duckdb.DuckDBPyConnection, component: str, ddl: tuple[str, ...]) -> bool:
    """Run ``ddl`` unless this exact DDL already ran on this warehouse; returns whether it ran."""
    digest = _digest(ddl)
    con.execute("CREATE TABLE IF NOT EXISTS ffp_schema (component VARCHAR PRIMARY KEY, digest VARCHAR)")
    known = con.execute("SELECT count(*) FROM ffp_schema WHERE component = ? AND digest = ?", [component, digest])
    if known.fetchall()[0][0]:
        return False
    for statement in ddl:
        con.execute(statement).fetchall()
    con.execute("INSERT OR REPLACE INTO ffp_schema VALUES (?, ?)", [component, digest])
    return True


@cache
def _digest(ddl: tuple[str, ...]) -> str:
    return hashlib.sha256("\n;\n".join(ddl).encode("utf-8")).hexdigest()
