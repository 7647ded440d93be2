"""candidates.csv's rows from a real, otherwise empty warehouse holding the case a test needs."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables import data as D
from fangfanpin.deliverables.candidates import candidate_rows
from fangfanpin.schema import ensure_schema

pytestmark = pytest.mark.unit

DAY = date(2026, 11, 20)


def test_a_case_the_model_opened_says_model_on_a_day_the_model_does_not_flag_it():
    """rule_codes is "MODEL" for a model-only candidate (docs/outputs.md), also once its case has moved on (待确认)
    and today's scores no longer warn about the household."""
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(
        "INSERT INTO case_status_daily (as_of_date, case_id, county_code, household_id, sources, risk_types, rule_codes,"
        " case_status, state_since, overdue) VALUES (?, 'C1', '150625', 'H1', '模型预警', '因病', 'MODEL', '待确认', ?, false)",
        [DAY, DAY],
    )
    D.prepare(con, DAY)
    [row] = candidate_rows(con, DAY, "150625", load_policy()).to_dicts()
    assert (row["rule_codes"], row["sources"], row["case_status"]) == ("MODEL", "模型预警", "待确认")
