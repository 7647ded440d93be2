"""Policy values that change on a date reach the stages by delivery date: the ledger's time limits (the scripted
county of tests/ledger_story.py) and the cross-check's rules and indicator windows (hand-built households of test_crosscheck).
The scoring, deliverables and 说明 sheet by date: test_province_policy."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from crosscheck_helpers import ADULT1, VILLAGE, D, _assist, fresh
from ledger_story import D1, D2, WF, H, insert_indicators, insert_rule_hit

from fangfanpin.config.policy import load_policy, parse_policy
from fangfanpin.crosscheck import indicator_params, run_crosscheck
from fangfanpin.workflow import run_workflow
from fangfanpin.workflow.calendar import add_working_days

pytestmark = pytest.mark.warehouse


def changed(*changes):
    data = copy.deepcopy(dict(load_policy().raw))
    data["changes"] = list(changes)
    return parse_policy(data)


def test_visit_deadlines_use_the_limit_in_force_on_the_day_a_case_opens(county):
    policy = changed({"from": D2.isoformat(), "workflow": {"pending_visit_working_days": 2}})
    insert_indicators(county, D1)
    insert_rule_hit(county, D1, 1)
    run_workflow(county, D1, policy)
    insert_indicators(county, D2)
    insert_rule_hit(county, D2, 5, "WAT-UNSAFE", "饮水安全问题", "中")
    run_workflow(county, D2, policy)
    due = dict(county.execute("SELECT household_id, due_date FROM visit_tasks WHERE purpose = '排查'").fetchall())
    assert due[H[1]] == add_working_days(D1, WF.pending_visit_working_days, WF)
    assert due[H[5]] == add_working_days(D2, 2, WF) != add_working_days(D2, WF.pending_visit_working_days, WF)


def test_the_cross_check_uses_the_rules_and_windows_in_force_on_its_date():
    policy = changed(
        {"from": D.isoformat(), "rules": {"HOU-UNSAFE": {"enabled": False}}},
        {"from": D.isoformat(), "rules": {"CIV-DISABILITY": {"params": {"window_days": 400}}}},
        {"from": D.isoformat(), "rules": {"MED-BURDEN": {"params": {"window_days": 100}}}},
    )
    before = D - timedelta(days=1)
    wh = fresh()
    wh.add(
        "housing_safety",
        head_id_number=ADULT1,
        head_name="张H10",
        village_code=VILLAGE,
        safety_grade="D",
        assessment_date=date(2026, 10, 1),
        renovation_status="未改造",
    )
    _assist(wh, "困难残疾人生活补贴", "在保", D - timedelta(days=200))
    wh.load()
    run_crosscheck(wh.con, before, policy)
    run_crosscheck(wh.con, D, policy)
    assert "HOU-UNSAFE" in wh.hits(before) and "CIV-DISABILITY" not in wh.hits(before)
    assert "HOU-UNSAFE" not in wh.hits(D)
    assert wh.hits(D)["CIV-DISABILITY"][0]["explanation_zh"].startswith("近400天新享受困难残疾人生活补贴")
    assert indicator_params(before, policy)["oop_window"] == 365 and indicator_params(D, policy)["oop_window"] == 100
