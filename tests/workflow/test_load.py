"""Loading a day's inputs from the warehouse (workflow.load) on a real, empty warehouse with the rows a test needs."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.schema import ensure_schema
from fangfanpin.workflow.load import HouseholdRows, load_day

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


def test_household_rows_read_as_the_dict_of_every_row():
    """The day's households are dicts made when read; what the decisions see is the dict of every row."""
    frame = pl.DataFrame(
        {
            "household_id": ["H2", "H1", None],
            "monitored": [True, False, None],
            "risk_identified_date": [date(2026, 1, 5), None, None],
        }
    )
    rows = HouseholdRows(frame)
    every = {r["household_id"]: r for r in frame.to_dicts()}
    assert dict(rows) == every and dict(rows.items()) == every and list(rows) == list(every)
    assert rows["H2"] == {"household_id": "H2", "monitored": True, "risk_identified_date": date(2026, 1, 5)}
    assert "H1" in rows and None in rows and "H3" not in rows and rows.get("H3") is None and len(rows) == 3
    with pytest.raises(KeyError):
        rows["H3"]
