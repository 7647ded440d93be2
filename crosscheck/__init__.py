"""Cross-check stage: person resolution, data-quality checks, household indicators and rule hits.

    result = run_crosscheck(con, date(2026, 11, 20))          # all four steps for one delivery date
    link_persons(con, day, policy); check_quality(con, day, policy); compute_indicators(con, day, policy); ...

Plain Python + DuckDB SQL (``crosscheck/sql/*.sql``), no Dagster. Every step reads only the point-in-time views
``<feed>_asof(day)`` (of the medical settlements, those a figure of ``day`` can read; and events dated on or before
``day``) and rewrites its tables for ``day`` (delete, then insert), so a date can be re-run any number of times.
Every threshold is a bound parameter from the policy in force on the date; the rules are the policy's registry
(``crosscheck/rules.py``).
The steps share temp tables (``cc_*``) on the connection: run them in order on one connection.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from fangfanpin.config.indicators import INDICATOR_PARAMS
from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.sql import run_file, transaction
from fangfanpin.crosscheck.rules import hits_statement, rule_tables
from fangfanpin.data_contracts import all_contracts
from fangfanpin.schema import ensure_schema

SQL_DIR = Path(__file__).parent / "sql"
OUTPUT_TABLES = (
    "link_rates",
    "person_links",
    "data_quality_issues",
    "household_indicators",
    "rule_hits",
    "exclusion_hits",
)


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run ``sql/<name>.sql`` with its bound parameters."""
    run_file(con, SQL_DIR / f"{name}.sql", params)


def _feeds_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE cc_feeds (feed VARCHAR, department VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO cc_feeds VALUES (?, ?, ?)", [[c.feed, c.department, c.kind] for c in all_contracts()])


def link_persons(con: duckdb.DuckDBPyConnection, day: date, policy: Policy) -> None:
    """Link every record in force on ``day`` that a figure of ``day`` reads to a roster person and household (temp
    cc_links; tables link_rates, person_links). ``policy`` is the one the indicators are computed with: medical
    settlements older than its medical windows are left out (sql/links.sql)."""
    ensure_schema(con)
    _feeds_table(con)
    _transaction(con, "links", links_params(day, policy))


def links_params(day: date, policy: Policy) -> dict:
    """The parameters of sql/links.sql: the longest window any medical indicator sums settlements over."""
    windows = indicator_params(day, policy)
    return {"d": day, "claims_window": max(windows["oop_window"], windows["cat_window"])}


def check_quality(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """Cross-department data-quality issues for ``day`` (needs link_persons first)."""
    policy = (policy or load_policy()).as_of(day)
    con.execute("CREATE OR REPLACE TEMP TABLE cc_student_max_age (stage VARCHAR, max_age INTEGER)")
    con.executemany("INSERT INTO cc_student_max_age VALUES (?, ?)", list(policy.student_max_age.items()))
    _transaction(con, "quality", {"d": day})


def indicator_params(day: date, policy: Policy) -> dict:
    """The parameters of sql/indicators.sql: the windows and cut-offs that are rule parameters (INDICATOR_PARAMS)."""
    policy = policy.as_of(day)
    return {"d": day} | {p: policy.rule(code).value(name) for p, (code, name) in INDICATOR_PARAMS.items()}


def compute_indicators(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """One row per household in the roster on ``day`` (table household_indicators; needs link_persons first)."""
    _transaction(con, "indicators", indicator_params(day, policy or load_policy()))


def exclusion_params(day: date, policy: Policy) -> dict:
    """The parameters of sql/rules.sql: the exclusion checks' thresholds in force on ``day``."""
    policy = policy.as_of(day)
    exc = policy.exclusion
    return {
        "d": day,
        "line": policy.monitoring_line(day.year),
        "vehicle_min": exc["EXC-VEHICLE"]["min_count"],
        "house_min": exc["EXC-HOUSE"]["min_count"],
        "business_min": exc["EXC-BUSINESS"]["min_count"],
        "assets_multiple": exc["EXC-ASSETS"]["line_multiple"],
    }


def evaluate_rules(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """Every rule of the policy in force on ``day`` over the day's indicators (tables rule_hits and exclusion_hits)."""
    policy = (policy or load_policy()).as_of(day)
    sql, params = hits_statement(day, policy)
    with _stage(con):
        con.execute(sql, params)
        rule_tables(con, policy)
        run_sql(con, "rules", exclusion_params(day, policy))


@contextmanager
def _stage(con: duckdb.DuckDBPyConnection):
    # Row order inside the stage's tables carries no meaning (every reader sorts); not keeping it saves memory and time.
    con.execute("SET preserve_insertion_order = false")
    try:
        with transaction(con):
            yield
    finally:
        con.execute("RESET preserve_insertion_order")


def _transaction(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    with _stage(con):
        run_sql(con, name, params)


@dataclass
class CrosscheckResult:
    delivery_date: date
    links: int
    issues: int
    households: int
    rule_hits: int
    exclusion_hits: int


def run_crosscheck(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> CrosscheckResult:
    policy = (policy or load_policy()).as_of(day)
    link_persons(con, day, policy)
    check_quality(con, day, policy)
    compute_indicators(con, day, policy)
    evaluate_rules(con, day, policy)
    counts = [
        con.execute(f"SELECT {n} FROM {t} WHERE {c} = ?", [day]).fetchall()[0][0]
        for n, t, c in (
            ("coalesce(sum(records), 0)::BIGINT", "link_rates", "delivery_date"),
            ("count(*)", "data_quality_issues", "delivery_date"),
            ("count(*)", "household_indicators", "as_of_date"),
            ("count(*)", "rule_hits", "as_of_date"),
            ("count(*)", "exclusion_hits", "as_of_date"),
        )
    ]
    return CrosscheckResult(day, *counts)


__all__ = [
    "run_crosscheck",
    "link_persons",
    "check_quality",
    "compute_indicators",
    "evaluate_rules",
    "ensure_schema",
    "CrosscheckResult",
    "OUTPUT_TABLES",
    "exclusion_params",
    "indicator_params",
    "links_params",
    "hits_statement",
    "run_sql",
]
