"""The case sheets: 比对异常, 公示名单, 待确认 and 风险消除候选."""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.deliverables.data import rows
from fangfanpin.deliverables.sheets.common import BASE, HH, ORDER, PLACE, case_sheet_sql, with_head
from fangfanpin.deliverables.xlsx import Col


def anomalies(con: duckdb.DuckDBPyConnection, day: date, county: str):
    data = rows(con, case_sheet_sql(where="cs.case_status = '比对异常'"), {"d": day, "c": county})
    cols = BASE + [
        Col("户类型", "household_type"),
        Col("风险类型", "risk_types"),
        Col("进入比对异常日期", "state_since", "date"),
        Col("复核截止日期", "due_date", "date"),
        Col("是否逾期", "overdue"),
        Col("排除情形代码", "exclusion_codes"),
        Col("异常说明与证据", "anomaly_zh", width=80),
        Col("走访结论", "visit_zh", width=50),
    ]
    return cols, [with_head(r) for r in data]


def publication(con: duckdb.DuckDBPyConnection, day: date, county: str):
    data = rows(con, case_sheet_sql(where="cs.case_status IN ('待公示', '公示中')"), {"d": day, "c": county})
    cols = (
        [Col("公示批次", "batch_id", "code")]
        + BASE
        + [
            Col("户类型", "household_type"),
            Col("家庭人口", "household_size", "int"),
            Col("风险类型", "risk_types"),
            Col("案件状态", "case_status"),
            Col("进入状态日期", "state_since", "date"),
            Col("公示开始日期", "pub_start", "date"),
            Col("公示结束日期", "pub_end", "date"),
        ]
    )
    return cols, [with_head(r) for r in data]


# the latest publication a case went through, as the county reads it; 绿色通道 cases are confirmed before their
# supplementary publication
PUBLICATION_RESULT = """,
    CASE WHEN pub.pub_batch IS NULL THEN
              CASE WHEN cs.green_channel THEN '未公示（绿色通道：先确认，后补充公示）' ELSE '未公示' END
         ELSE CASE WHEN pub.pub_purpose = '补充公示' THEN '补充公示' ELSE '公示' END
              || CASE WHEN pub.pub_passed THEN '通过' WHEN NOT pub.pub_passed THEN '未通过'
                      WHEN $d <= pub.pub_end_last THEN '中' ELSE '期满，待回传结果' END
    END AS pub_result"""


def to_confirm(con: duckdb.DuckDBPyConnection, day: date, county: str):
    data = rows(
        con, case_sheet_sql(extra_select=PUBLICATION_RESULT, where="cs.case_status = '待确认'"), {"d": day, "c": county}
    )
    cols = BASE + [
        Col("户类型", "household_type"),
        Col("家庭人口", "household_size", "int"),
        Col("来源", "sources"),
        Col("风险类型", "risk_types"),
        Col("规则代码", "rule_codes"),
        Col("风险等级", "risk_level", "level"),
        Col("规则严重程度", "severity_max", "level"),
        Col("模型概率", "probability", "percent"),
        Col("绿色通道", "green_channel"),
        Col("立案日期", "opened_date", "date"),
        Col("进入待确认日期", "state_since", "date"),
        Col("决定截止日期", "due_date", "date"),
        Col("是否逾期", "overdue"),
        Col("公示批次", "pub_batch", "code"),
        Col("公示开始日期", "pub_start_last", "date"),
        Col("公示结束日期", "pub_end_last", "date"),
        Col("公示结果", "pub_result"),
        Col("民主评议及异议", "pub_result_zh", width=40),
        Col("预警证据", "explanation_zh", width=60),
        Col("走访结论", "visit_zh", width=50),
        Col("比对结论", "check_zh", width=40),
    ]
    return cols, [with_head(r) for r in data]


def elimination(con: duckdb.DuckDBPyConnection, day: date, county: str):
    data = rows(
        con,
        f"""
        SELECT e.*, hh.village_name, hh.head_name, hh.head_id FROM elimination_candidates e {HH.format(t="e")}
        WHERE e.as_of_date = $d AND e.county_code = $c {ORDER.format(t="e")}""",
        {"d": day, "c": county},
    )
    cols = PLACE + [
        Col("案件编号", "case_id", "code"),
        Col("纳入监测日期", "monitored_since", "date"),
        Col("已监测月数", "monitored_months", "int"),
        Col("人均纯收入（扣除合规自付支出，元）", "income_position", "amount"),
        Col("监测范围（元）", "monitoring_line", "amount"),
        Col("最近一次规则预警日期", "last_rule_date", "date"),
        Col("各项条件的证据", "evidence_zh", width=80),
    ]
    return cols, [with_head(r) for r in data]
