"""Rule hits from the policy's rule registry: one SELECT per rule in force (config/rules.py writes each from its
checked condition and evidence), together as the temp table ``cc_hits``; ``sql/rules.sql`` then writes rule_hits
with each hit's risk type and severity, and the exclusion checks.

    sql, params = hits_statement(day, policy)   # every value bound, the rules of the policy in force on day
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.config.rules import rule_select, used_globals

_EMPTY = (
    "SELECT NULL::VARCHAR AS household_id, NULL::VARCHAR AS rule_code, NULL::VARCHAR AS derived_risk, "
    "NULL::VARCHAR AS explanation_zh, NULL::JSON AS evidence WHERE false"
)


def hits_statement(day: date, policy: Policy) -> tuple[str, dict]:
    """CREATE the temp table cc_hits(household_id, rule_code, derived_risk, explanation_zh, evidence) for ``day``."""
    policy = policy.as_of(day)
    values = {
        "d": day,
        "line": policy.monitoring_line(day.year),
        "prior_income": policy.rural_income_prior_year(day.year),
    }
    selects, binds = [], {}
    for i, rule in enumerate(policy.enabled_rules()):
        sql, rule_binds = rule_select(rule, f"r{i}_")
        selects.append(sql)
        binds |= rule_binds
    sql = (
        "CREATE OR REPLACE TEMP TABLE cc_hits AS "
        "WITH h AS (SELECT * FROM household_indicators WHERE as_of_date = $d::DATE) "
        + ("\nUNION ALL\n".join(selects) or _EMPTY)
    )
    return sql, binds | used_globals(sql, values) | {"d": day}


def rule_tables(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """cc_rules (how each rule's risk type and severity are found) and cc_reason_map (a reason text of today's
    hits → the risk types its words map to, ';'-joined), for sql/rules.sql; needs cc_hits."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cc_rules "
        "(code VARCHAR, kind VARCHAR, risk_type VARCHAR, severity VARCHAR, fallback VARCHAR)"
    )
    con.executemany(
        "INSERT INTO cc_rules VALUES (?, ?, ?, ?, ?)",
        [
            [r.code, "fixed", r.risk_type, r.severity, None]
            if r.risk_expr is None
            else [r.code, r.risk_type, None, r.severity, r.fallback]
            for r in policy.enabled_rules()
        ],
    )
    mapped = [r.code for r in policy.enabled_rules() if r.risk_type == "map_reason"]
    reasons = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT derived_risk FROM cc_hits WHERE derived_risk IS NOT NULL AND list_contains(?, rule_code)",
            [mapped],
        ).fetchall()
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE cc_reason_map (reason VARCHAR, risk_types VARCHAR)")
    # distinct reason texts (not rows): the keyword table is ordered and consumes words, simplest in Python
    rows = [[reason, ";".join(types)] for reason in reasons if (types := policy.map_risk_text(reason))]
    if rows:
        con.executemany("INSERT INTO cc_reason_map VALUES (?, ?)", rows)
