"""Cross-check stage (issue 3): person resolution, data-quality checks, household indicators and rule hits.

    result = run_crosscheck(con, date(2026, 11, 20))          # all four steps for one delivery date
    link_persons(con, day); check_quality(con, day); compute_indicators(con, day, policy); evaluate_rules(con, day, policy)

Plain Python + DuckDB SQL (``crosscheck/sql/*.sql``), no Dagster. Every step reads only the point-in-time views
``<feed>_asof(day)`` (and events dated on or before ``day``) and rewrites its tables for ``day`` (delete, then
insert), so a date can be re-run any number of times. Every threshold is a bound parameter from the policy file.
The steps share temp tables (``cc_*``) on the connection: run them in order on one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.sql import run_file, statements, transaction
from fangfanpin.data_contracts import all_contracts
from fangfanpin.ingest.warehouse import ensure_schema as ensure_ingest_schema
from fangfanpin.ingest.warehouse import run_ddl_once

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


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    ensure_ingest_schema(con)
    run_ddl_once(con, "crosscheck", list(statements(SQL_DIR / "schema.sql")))


def _feeds_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE cc_feeds (feed VARCHAR, department VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO cc_feeds VALUES (?, ?, ?)", [[c.feed, c.department, c.kind] for c in all_contracts()])


def link_persons(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Link every record in force on ``day`` to a roster person and household (temp cc_links; tables link_rates, person_links)."""
    ensure_schema(con)
    _feeds_table(con)
    _transaction(con, "links", {"d": day})


def check_quality(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """Cross-department data-quality issues for ``day`` (needs link_persons first)."""
    policy = policy or load_policy()
    con.execute("CREATE OR REPLACE TEMP TABLE cc_student_max_age (stage VARCHAR, max_age INTEGER)")
    con.executemany("INSERT INTO cc_student_max_age VALUES (?, ?)", list(policy.student_max_age.items()))
    _transaction(con, "quality", {"d": day})


def indicator_params(day: date, policy: Policy) -> dict:
    rules = policy.rules
    return {
        "d": day,
        "oop_window": rules["MED-BURDEN"].value("window_days"),
        "cat_window": rules["MED-CATASTROPHIC"].value("window_days"),
        "cat_cost": rules["MED-CATASTROPHIC"].value("total_cost"),
        "dropout_min": rules["EDU-DROPOUT"].value("min_age"),
        "dropout_max": rules["EDU-DROPOUT"].value("max_age"),
        "missing_min": rules["EDU-MISSING"].value("min_age"),
        "missing_max": rules["EDU-MISSING"].value("max_age"),
    }


def compute_indicators(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """One row per household in the roster on ``day`` (table household_indicators; needs link_persons first)."""
    _transaction(con, "indicators", indicator_params(day, policy or load_policy()))


def rule_params(day: date, policy: Policy) -> dict:
    r = policy.rules
    exc = policy.exclusion
    return indicator_params(day, policy) | {
        "line": policy.monitoring_line(day.year),
        "prior_income": policy.rural_income_prior_year(day.year),
        "drop_share": r["INC-DROP"].value("drop_share"),
        "drop_multiple": r["INC-DROP"].value("line_multiple"),
        "med_window": r["MED-BURDEN"].value("window_days"),
        "share_poverty": r["MED-BURDEN"].value("share_poverty"),
        "share_other": r["MED-BURDEN"].value("share_other"),
        "edu_min_students": r["EDU-BURDEN"].value("min_students"),
        "edu_multiple": r["EDU-BURDEN"].value("line_multiple"),
        "unsafe_grades": list(r["HOU-UNSAFE"].value("grades")),
        "new_dibao_window": r["CIV-NEW-DIBAO"].value("window_days"),
        "temp_aid_window": r["CIV-TEMP-AID"].value("window_days"),
        "disability_window": r["CIV-DISABILITY"].value("window_days"),
        "exit_window": r["CIV-DIBAO-EXIT"].value("window_days"),
        "exit_multiple": r["CIV-DIBAO-EXIT"].value("line_multiple"),
        "vehicle_min": exc["EXC-VEHICLE"]["min_count"],
        "house_min": exc["EXC-HOUSE"]["min_count"],
        "business_min": exc["EXC-BUSINESS"]["min_count"],
        "assets_multiple": exc["EXC-ASSETS"]["line_multiple"],
    }


def evaluate_rules(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> None:
    """Every rule of policy.md over the day's indicators (tables rule_hits and exclusion_hits)."""
    policy = policy or load_policy()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cc_rules (code VARCHAR, risk_type VARCHAR, severity VARCHAR, fallback VARCHAR)"
    )
    con.executemany(
        "INSERT INTO cc_rules VALUES (?, ?, ?, ?)",
        [[r.code, r.risk_type, r.severity, r.fallback] for r in policy.rules.values()],
    )
    reasons = [
        row[0]
        for row in con.execute(
            "SELECT new_dibao_reason FROM household_indicators WHERE as_of_date = ? UNION "
            "SELECT temp_aid_reason FROM household_indicators WHERE as_of_date = ?",
            [day, day],
        ).fetchall()
        if row[0] is not None
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE cc_reason_map (reason VARCHAR, risk_types VARCHAR)")
    mapped = [[reason, ";".join(policy.map_risk_text(reason))] for reason in reasons if policy.map_risk_text(reason)]
    if mapped:
        con.executemany("INSERT INTO cc_reason_map VALUES (?, ?)", mapped)
    _transaction(con, "rules", rule_params(day, policy))


def _transaction(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    # Row order inside the stage's tables carries no meaning (every reader sorts); not keeping it saves memory and time.
    con.execute("SET preserve_insertion_order = false")
    try:
        with transaction(con):
            run_sql(con, name, params)
    finally:
        con.execute("RESET preserve_insertion_order")


@dataclass
class CrosscheckResult:
    delivery_date: date
    links: int
    issues: int
    households: int
    rule_hits: int
    exclusion_hits: int


def run_crosscheck(con: duckdb.DuckDBPyConnection, day: date, policy: Policy | None = None) -> CrosscheckResult:
    policy = policy or load_policy()
    link_persons(con, day)
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
    "rule_params",
    "indicator_params",
    "run_sql",
]
