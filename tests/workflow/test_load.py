"""Loading a day's inputs from the warehouse (workflow.load) on a real, empty warehouse with the rows a test needs."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.schema import ensure_schema
from fangfanpin.workflow.load import load_day

pytestmark = pytest.mark.unit

DAY = date(2026, 11, 20)
VEHICLE = "家庭成员登记机动车 1 辆（民政局核对中心）"
HOUSE = "家庭成员登记商品房 2 套（住建局）"


def test_exclusion_findings_reach_the_review_task_in_chinese_without_rule_codes():
    """What 比对 found becomes the review task's 核实内容 on a village card: a village cadre reads no rule code."""
    con = duckdb.connect()
    ensure_schema(con)
    con.executemany(
        "INSERT INTO exclusion_hits (as_of_date, household_id, check_code, explanation_zh) VALUES (?, ?, ?, ?)",
        [
            [DAY, "H1", "EXC-VEHICLE", VEHICLE],
            [DAY, "H1", "EXC-HOUSE", HOUSE],
            [date(2026, 11, 19), "H2", "EXC-VEHICLE", VEHICLE],  # another day's finding is not today's
        ],
    )
    assert load_day(con, DAY, load_policy()).exclusions == {"H1": [HOUSE, VEHICLE]}
