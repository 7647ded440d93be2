"""The policy file: the packaged default loads, FFP_POLICY points elsewhere, bad values name the key."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from fangfanpin.config.policy import DEFAULT_POLICY, PolicyError, load_policy, parse_policy

pytestmark = pytest.mark.unit


def raw() -> dict:
    return yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


def test_default_policy_loads():
    policy = load_policy(DEFAULT_POLICY)
    assert policy.monitoring_line(2026) == 9000 and policy.rural_income_prior_year(2026) == 24400
    assert policy.rule("MED-BURDEN").value("share_poverty") == 0.5 and policy.rule("HOU-UNSAFE").severity == "高"
    assert len(policy.rules) == 15 and policy["ingest"]["snapshot_shrink_ratio"] == 0.5
    assert policy.workflow.pending_visit_working_days == 5 and "因自然灾害" in policy.workflow.green_channel_risk_types


def test_missing_year_is_a_clear_error():
    with pytest.raises(PolicyError, match="monitoring_line.2031"):
        load_policy(DEFAULT_POLICY).monitoring_line(2031)


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            ("rules", "MED-BURDEN", "params", "share_other"),
            "abc",
            "rules.MED-BURDEN.params.share_other: must be a number > 0, got 'abc'",
        ),
        (
            ("rules", "INC-DROP", "params", "drop_share"),
            1.5,
            "rules.INC-DROP.params.drop_share: must be a number between 0 and 1, got 1.5",
        ),
        (("rules", "HOU-UNSAFE", "severity"), "低", "rules.HOU-UNSAFE.severity: must be 高 or 中, got '低'"),
        (("monitoring_line", 2026), -1, "monitoring_line.2026: must be a number > 0, got -1"),
        (("risk_levels", "high_probability"), "x", "risk_levels.high_probability"),
        (("workflow", "holidays"), ["2026-13-01"], "workflow.holidays[0]"),
    ],
)
def test_bad_values_name_the_key(path, value, message):
    data = copy.deepcopy(raw())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PolicyError) as error:
        parse_policy(data)
    assert message in str(error.value)


def test_a_rule_other_stages_read_cannot_be_left_out():
    data = raw()
    del data["rules"]["HOU-UNSAFE"]
    with pytest.raises(PolicyError, match="rules.HOU-UNSAFE: missing"):
        parse_policy(data)
    data = raw()
    del data["rules"]["WAT-UNSAFE"]  # a rule nothing else reads may go
    assert "WAT-UNSAFE" not in parse_policy(data).rules


def test_ffp_policy_points_at_another_file(tmp_path, monkeypatch):
    data = raw()
    data["monitoring_line"][2026] = 9500
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("FFP_POLICY", str(path))
    assert load_policy().monitoring_line(2026) == 9500


def test_keyword_table_consumes_keywords():
    policy = load_policy(DEFAULT_POLICY)
    assert policy.map_risk_text("医保断缴") == ("家庭成员未参加基本医疗保险",)  # 医 inside 医保 does not match again
    assert policy.map_risk_text("住院手术，房屋漏雨") == ("因病", "住房出现安全问题")
    assert policy.map_risk_text("年老") == ()


# ---- values that change on a date -------------------------------------------------------------------------------------
def dated(*changes) -> dict:
    data = raw()
    data["changes"] = list(changes)
    return data


def test_values_in_force_on_a_date():
    policy = parse_policy(
        dated(
            {"from": "2026-09-01", "workflow": {"total_working_days": 20}},
            {"from": date(2026, 7, 1), "rules": {"MED-BURDEN": {"params": {"share_other": 0.8}}}},
            {"from": "2026-10-01", "rules": {"WAT-UNSAFE": {"enabled": False}}},
        )
    )
    assert policy.rule("MED-BURDEN").value("share_other") == 1.0 and policy.in_force_from is None
    june, july, october = (
        policy.as_of(date(2026, 6, 30)),
        policy.as_of(date(2026, 7, 1)),
        policy.as_of(date(2026, 10, 9)),
    )
    assert june.rule("MED-BURDEN").value("share_other") == 1.0 and june.workflow.total_working_days == 15
    assert july.rule("MED-BURDEN").value("share_other") == 0.8 and july.in_force_from == date(2026, 7, 1)
    assert october.workflow.total_working_days == 20 and october.rule("MED-BURDEN").value("share_other") == 0.8
    assert "WAT-UNSAFE" not in {r.code for r in october.enabled_rules()} and june.rule("WAT-UNSAFE").enabled
    assert [c.start for c in june.upcoming(date(2026, 6, 30))] == [
        date(2026, 7, 1),
        date(2026, 9, 1),
        date(2026, 10, 1),
    ]
    assert july.as_of(date(2026, 1, 1)) is policy and october.as_of(date(2026, 10, 9)) is october


def test_a_change_can_add_a_rule():
    rule = raw()["rules"]["LAB-NONE"] | {"name": "家庭无劳动力（新）", "severity": "中"}
    policy = parse_policy(dated({"from": "2026-07-01", "rules": {"LAB-NONE-2": rule}}))
    assert "LAB-NONE-2" not in policy.rules and policy.as_of(date(2026, 7, 1)).rule("LAB-NONE-2").severity == "中"


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"from": "2026-07-01", "rules": {"MED-BURDEN": {"params": {"share_othr": 0.8}}}},
            "changes (from 2026-07-01): rules.MED-BURDEN.params.share_othr is not in the policy file",
        ),
        ({"from": "2026-07-01", "workflow": {"total_days": 20}}, "workflow.total_days is not in the policy file"),
        ({"from": "2026-07-01", "monitoring_line": {2026: 9500}}, "changes[0].monitoring_line: cannot change by date"),
        ({"from": "2026-13-01", "workflow": {"total_working_days": 20}}, "changes[0].from: must be a date"),
        ({"workflow": {"total_working_days": 20}}, "changes[0].from: missing"),
        ({"from": "2026-07-01"}, "changes[0]: names no value to change"),
        (
            {"from": "2026-07-01", "rules": {"MED-BURDEN": {"params": {"share_other": "abc"}}}},
            "with the changes from 2026-07-01 on: rules.MED-BURDEN.params.share_other: must be a number > 0",
        ),
        (
            {"from": "2026-07-01", "rules": {"MED-BURDEN": {"when": "oop_13m > 0"}}},
            "rules.MED-BURDEN.when: unknown name 'oop_13m'",
        ),
    ],
)
def test_changes_are_checked_when_the_policy_loads(change, message):
    with pytest.raises(PolicyError) as error:
        parse_policy(dated(change))
    assert message in str(error.value)
