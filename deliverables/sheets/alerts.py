"""新增预警: the households that became flagged on this delivery date, and how today's flags divide.

A household is flagged on a date when a rule fired for it or the model warned (``household_scores``). Every household
not monitored and flagged today is one of:

- 持续预警: flagged on the county's previous delivery date too (it was new then, or earlier);
- 今日不予纳入: not flagged then, and its case was declined today (the visit or the county said no);
- 已有案件: not flagged then, with a case opened before today still open (the flag joins that case as evidence);
- 新增预警: the rest, listed on the sheet. A case opened today shows its number: its visit task is issued.

首次预警日期 is the first date the household was ever flagged (kept by the scoring in ``household_first_flags``, so
that no day reads the scores' whole history): the current run of flags of a household on this sheet starts today by
definition, so the first date ever is what tells a recurrence from a first alert.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.deliverables.data import FLAGGED, OPEN, rows
from fangfanpin.deliverables.sheets.common import HH, ORDER, PLACE, with_head
from fangfanpin.deliverables.xlsx import Col

# every flagged household not monitored, with its kind (the module's docstring); parameters $d, $c, $prev, $open
_CLASSIFIED = f"""
    WITH s AS (SELECT * FROM household_scores WHERE as_of_date = $d AND county_code = $c
               AND NOT coalesce(monitored, false) AND {FLAGGED}),
    was AS (SELECT household_id FROM household_scores
            WHERE as_of_date = $prev AND {FLAGGED} AND household_id IN (SELECT household_id FROM s)),
    first AS (SELECT household_id, first_flag_date FROM household_first_flags
              WHERE household_id IN (SELECT household_id FROM s)),
    declined AS (SELECT household_id FROM case_status_daily
                 WHERE as_of_date = $d AND county_code = $c AND case_status = '不予纳入' AND state_since = $d),
    cs AS (SELECT * FROM case_status_daily WHERE as_of_date = $d AND county_code = $c
           AND list_contains($open::VARCHAR[], case_status)
           QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY opened_date DESC, case_id DESC) = 1)
    SELECT s.*, first.first_flag_date, cs.case_id, cs.case_status,
           CASE WHEN s.household_id IN (SELECT household_id FROM was) THEN '持续预警'
                WHEN s.household_id IN (SELECT household_id FROM declined) THEN '今日不予纳入'
                WHEN cs.case_id IS NOT NULL AND cs.opened_date < $d THEN '已有案件'
                ELSE '新增预警' END AS kind
    FROM s LEFT JOIN first USING (household_id) LEFT JOIN cs USING (household_id)"""

KINDS = ("新增预警", "持续预警", "今日不予纳入", "已有案件")


def previous_date(con: duckdb.DuckDBPyConnection, day: date, county: str) -> date | None:
    """The county's previous delivery date with scores: what today's flags are compared with."""
    return con.execute(
        "SELECT max(as_of_date) FROM scored_dates WHERE as_of_date < ? AND county_code = ?", [day, county]
    ).fetchall()[0][0]


def _params(con: duckdb.DuckDBPyConnection, day: date, county: str) -> dict:
    return {"d": day, "c": county, "prev": previous_date(con, day, county), "open": OPEN}


def alert_counts(con: duckdb.DuckDBPyConnection, day: date, county: str) -> dict[str, int]:
    """How many of today's flagged households (not monitored) are of each kind (KINDS)."""
    got = dict(
        con.execute(f"SELECT kind, count(*) FROM ({_CLASSIFIED}) GROUP BY 1", _params(con, day, county)).fetchall()
    )
    return {k: got.get(k, 0) for k in KINDS}


def new_alerts(con: duckdb.DuckDBPyConnection, day: date, county: str):
    data = rows(
        con,
        f"""
        SELECT a.township, a.village_code, hh.village_name, a.household_id, hh.head_name, hh.head_id,
               a.household_type, a.risk_level, a.severity_max, a.probability, a.risk_types, a.rule_codes,
               a.first_flag_date, a.explanation_zh, a.top_features_zh, a.case_id, a.case_status,
               CASE WHEN a.model_warning AND a.rule_codes IN ('', 'MODEL') THEN '模型预警' ELSE '部门预警' END AS source
        FROM ({_CLASSIFIED}) a {HH.format(t="a")}
        WHERE a.kind = '新增预警'
        {ORDER.format(t="a")}""",
        _params(con, day, county),
    )
    cols = PLACE + [
        Col("户类型", "household_type"),
        Col("风险等级", "risk_level", "level"),
        Col("规则严重程度", "severity_max", "level"),
        Col("模型概率", "probability", "percent"),
        Col("预警来源", "source"),
        Col("风险类型", "risk_types"),
        Col("规则代码", "rule_codes"),
        Col("首次预警日期", "first_flag_date", "date"),
        Col("预警说明（证据）", "explanation_zh", width=80),
        Col("模型主要因素", "top_features_zh", width=40),
        Col("案件编号", "case_id", "code"),
        Col("案件状态", "case_status"),
    ]
    return cols, [with_head(r) for r in data]
