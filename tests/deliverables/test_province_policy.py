"""A province configures its policy copy alone (FFP_POLICY): it adds a rule, 低保 or 特困 households whose medical
out-of-pocket spending of the year is above an absolute amount (as 西安 does), and lowers that amount from a date.
The real stages (cross-check, scoring, ledger, deliverables) run on generated data for a day before and the day of
the change; the rule fires with its evidence in the workbook and candidates.csv, each day uses its own amount, and
the 说明 sheet shows the amount in force and, before the date, the change to come."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from fangfanpin.config.policy import DEFAULT_POLICY, load_policy
from fangfanpin.crosscheck import run_crosscheck
from fangfanpin.deliverables import write_county_outputs
from fangfanpin.models.scoring import score_households
from fangfanpin.workflow import run_workflow

pytestmark = pytest.mark.warehouse

BEFORE, CHANGE = date(2026, 11, 17), date(2026, 11, 20)  # two delivery dates of small_landing
AMOUNTS = {BEFORE: 3000, CHANGE: 2000}
CODE = "MED-DIBAO-OOP"
RULE = {
    "name": "低保特困户医疗自付超额",
    "description": "享受农村低保或特困供养的家庭，近一年个人负担医疗费用超过 {amount} 元",
    "risk_type": "因病",
    "severity": "高",
    "params": {"amount": AMOUNTS[BEFORE]},
    "when": "dibao_covered AND oop_12m > amount",
    "evidence": "享受低保或特困供养的家庭近12个月个人负担医疗费用 {oop_12m:yuan} 元，超过 {amount:yuan} 元（医保、民政局，{oop_last_date:day}）",
    "facts": {"oop_12m": "round(oop_12m, 2)", "threshold": "amount"},
}


def province_policy(path: Path) -> Path:
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["rules"][CODE] = RULE
    data["parameter_names"]["amount"] = "年度个人负担医疗费用（元）"
    data["changes"] = [{"from": CHANGE.isoformat(), "rules": {CODE: {"params": {"amount": AMOUNTS[CHANGE]}}}}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def province(small_ingested, tmp_path_factory):
    root = tmp_path_factory.mktemp("province")
    db = root / "wh.duckdb"
    db.write_bytes(small_ingested.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FFP_POLICY", str(province_policy(root / "xian.yaml")))
        con = duckdb.connect(str(db))
        try:
            for day in (BEFORE, CHANGE):  # every stage takes the policy from FFP_POLICY
                run_crosscheck(con, day)
                score_households(con, day, rules_only=True)
                run_workflow(con, day)
                write_county_outputs(con, day, root / "outbox", load_policy(), run_id="province")
        finally:
            con.close()
    return root


def _hits(root: Path, day: date) -> dict[str, str]:
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    try:
        hits = dict(
            con.execute(
                "SELECT household_id, explanation_zh FROM rule_hits WHERE as_of_date = ? AND rule_code = ?", [day, CODE]
            ).fetchall()
        )
        expected = {  # computed here from the indicators, not by the rule's SQL
            r[0]: r[1:]
            for r in con.execute(
                """SELECT household_id, oop_12m, oop_last_date FROM household_indicators
                   WHERE as_of_date = ? AND dibao_covered AND oop_12m > ?""",
                [day, AMOUNTS[day]],
            ).fetchall()
        }
    finally:
        con.close()
    assert set(hits) == set(expected) and hits, (day, hits, expected)
    for household, (oop, last) in expected.items():
        assert hits[household] == (
            f"享受低保或特困供养的家庭近12个月个人负担医疗费用 {round(oop):,} 元，超过 {AMOUNTS[day]:,} 元"
            f"（医保、民政局，{last.isoformat()}）"
        )
    return hits


def _sheet(root: Path, day: date, name: str) -> list[dict]:
    (book,) = (root / "outbox" / day.isoformat() / "150625").glob("*.xlsx")
    header, *rows = openpyxl.load_workbook(book, read_only=True)[name].iter_rows(values_only=True)
    return [dict(zip(header, r)) for r in rows]


@pytest.mark.parametrize("day", [BEFORE, CHANGE])
def test_the_new_rule_fires_with_its_evidence_in_the_workbook_and_candidates(province, day):
    hits = _hits(province, day)  # the amount in force on the day
    text = (province / "outbox" / day.isoformat() / "150625" / "candidates.csv").read_bytes().decode("utf-8-sig")
    candidates = {r["household_id"]: r for r in csv.DictReader(io.StringIO(text))}
    for household, explanation in hits.items():
        assert CODE in candidates[household]["rule_codes"].split(";")
        assert explanation in candidates[household]["explanation"]
        assert "因病" in candidates[household]["risk_types"].split(";")
    alerts = {r["户编号"]: r for r in _sheet(province, day, "新增预警")}
    shown = [h for h in hits if h in alerts]
    assert shown or day == CHANGE  # a household alerted the day before has its case already
    for household in shown:
        assert CODE in alerts[household]["规则代码"] and hits[household] in alerts[household]["预警说明（证据）"]


def test_the_notes_sheet_shows_the_amount_in_force_and_the_change_to_come(province):
    before = {r["代码"]: r for r in _sheet(province, BEFORE, "说明") if r["代码"]}
    row = before[CODE]
    assert (row["类别"], row["名称"], row["风险类型"], row["严重程度"]) == ("部门筛查规则", RULE["name"], "因病", "高")
    assert row["含义"] == "享受农村低保或特困供养的家庭，近一年个人负担医疗费用超过 3000 元"
    assert row["阈值/取值"] == "年度个人负担医疗费用（元）：3000"
    assert "2026-11-20 起" in row["计划变更"] and "年度个人负担医疗费用（元）：2000" in row["计划变更"]
    assert not before["MED-BURDEN"]["计划变更"]
    after = _sheet(province, CHANGE, "说明")
    row = next(r for r in after if r["代码"] == CODE)
    assert row["阈值/取值"] == "年度个人负担医疗费用（元）：2000" and not row["计划变更"]
    in_force = next(r for r in after if r["含义"] == "政策取值")
    assert "2026-11-20" in in_force["阈值/取值"]
