"""风险消除 candidates (docs/policy.md, "The workflow"): monitored households meeting every condition, listed each day with the evidence.

SQL over all households of the day (``sql/elimination.sql``); thresholds from the policy file's ``elimination``
section. Candidates whose case is still 已纳入 enter the elimination flow (visit → 公示 → county decision).
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.core.sql import run_file
from fangfanpin.workflow.cases import SQL_DIR


def compute_candidates(
    con: duckdb.DuckDBPyConnection, day: date, policy: Policy, monitored: dict | None = None
) -> list[dict]:
    policy = policy.as_of(day)
    params = {
        "d": day,
        "line": policy.monitoring_line(day.year),
        "min_months": policy.elimination_min_monitored_months,
        "no_rule_days": policy.elimination_no_rule_days,
        "retry_days": policy.workflow.elimination_retry_days,
        "unsafe_grades": list(policy.rule("HOU-UNSAFE").value("grades")),
    }
    run_file(con, SQL_DIR / "elimination.sql", params)
    rows = (
        con.sql("SELECT * FROM elimination_candidates WHERE as_of_date = ? ORDER BY household_id", params=[day])
        .pl()
        .to_dicts()
    )
    return [r for r in rows if monitored is None or r["household_id"] in monitored]
