"""The county workbook (docs/outputs.md): eleven sheets, written with xlsxwriter (deliverables/xlsx.py), reproducible bytes.

Every sheet is a table: Chinese header row (frozen, with an autofilter), widths from the content, dates as Excel dates,
amounts and scores as numbers, risk level coloured (高 red, 中 orange, 低 green). Feed text is always written with
write_string (and strings_to_formulas=False), so '=…' stays text. The 说明 sheet is deliverables/notes.py. ID numbers are masked everywhere; free text passes
through mask_text (ID and phone numbers inside it are masked); the phone column of 排查任务 is the only unmasked phone.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.data_contracts import all_contracts
from fangfanpin.deliverables.data import (
    OPEN,
    QUALITY_KINDS_ZH,
    feed_freshness,
    feed_title,
    id_headers,
    quality_rows,
    rows,
)
from fangfanpin.deliverables.masking import mask_id, mask_text
from fangfanpin.deliverables.notes import notes
from fangfanpin.deliverables.receipts import receipt_sheet
from fangfanpin.deliverables.xlsx import Col
from fangfanpin.deliverables.xlsx import Writer as _Writer

SHEETS = (
    "工作概览",
    "新增预警",
    "排查任务",
    "比对异常",
    "公示名单",
    "待确认",
    "风险消除候选",
    "逾期提醒",
    "回传处理结果",
    "数据质量问题",
    "说明",
)


# ------------------------------------------------------------------------------------------------------ the sheets
HH = "LEFT JOIN dlv_hh hh ON hh.household_id = {t}.household_id"
ORDER = "ORDER BY coalesce({t}.township, ''), coalesce({t}.village_code, ''), {t}.household_id"


def _with_head(r: dict) -> dict:
    r["head_id_masked"] = mask_id(r.pop("head_id", None))
    return r


def new_alerts(con, day, county):
    data = rows(
        con,
        f"""
        SELECT s.township, s.village_code, hh.village_name, s.household_id, hh.head_name, hh.head_id, s.household_type,
               s.risk_level, s.probability, s.risk_types, s.rule_codes, s.explanation_zh, s.top_features_zh,
               cs.case_id, cs.case_status,
               CASE WHEN s.model_warning AND s.rule_codes IN ('', 'MODEL') THEN '模型预警' ELSE '部门预警' END AS source
        FROM household_scores s {HH.format(t="s")}
        LEFT JOIN case_status_daily cs ON cs.as_of_date = s.as_of_date AND cs.household_id = s.household_id
             AND list_contains($open::VARCHAR[], cs.case_status)
        WHERE s.as_of_date = $d AND s.county_code = $c AND NOT coalesce(s.monitored, false)
          AND ((s.rule_codes <> '' AND s.rule_codes <> 'MODEL') OR s.model_warning)
          AND (cs.case_id IS NULL OR cs.opened_date = $d)
        {ORDER.format(t="s")}""",
        {"d": day, "c": county, "open": OPEN},
    )
    cols = [
        Col("乡镇", "township"),
        Col("行政村", "village_name"),
        Col("村代码", "village_code", "code"),
        Col("户编号", "household_id", "code"),
        Col("户主姓名", "head_name"),
        Col("户主证件号码（脱敏）", "head_id_masked"),
        Col("户类型", "household_type"),
        Col("风险等级", "risk_level", "level"),
        Col("风险评分", "probability", "score"),
        Col("预警来源", "source"),
        Col("风险类型", "risk_types"),
        Col("规则代码", "rule_codes"),
        Col("预警说明（证据）", "explanation_zh", width=80),
        Col("模型主要因素", "top_features_zh", width=40),
        Col("案件编号", "case_id", "code"),
        Col("案件状态", "case_status"),
    ]
    return cols, [_with_head(r) for r in data]


def visit_tasks(con, day, county):
    data = rows(
        con,
        f"""
        SELECT t.task_id, t.purpose, t.township, t.village_code, hh.village_name, t.household_id, hh.head_name,
               hh.head_id, hh.phone, t.what_to_verify_zh, t.issued_date, t.due_date, t.case_id,
               cs.case_status, (t.due_date - $d::DATE) AS days_left
        FROM visit_tasks t
        LEFT JOIN visit_task_closures x ON x.task_id = t.task_id AND x.processed_date <= $d
        LEFT JOIN case_status_daily cs ON cs.as_of_date = $d AND cs.case_id = t.case_id
        {HH.format(t="t")}
        WHERE t.processed_date <= $d AND t.county_code = $c AND x.task_id IS NULL
        {ORDER.format(t="t")}, t.task_id""",
        {"d": day, "c": county},
    )
    cols = [
        Col("任务编号", "task_id", "code"),
        Col("任务类型", "purpose"),
        Col("乡镇", "township"),
        Col("行政村", "village_name"),
        Col("村代码", "village_code", "code"),
        Col("户编号", "household_id", "code"),
        Col("户主姓名", "head_name"),
        Col("户主证件号码（脱敏）", "head_id_masked"),
        Col("联系电话", "phone", "phone"),
        Col("核实内容", "what_to_verify_zh", width=60),
        Col("派发日期", "issued_date", "date"),
        Col("截止日期", "due_date", "date"),
        Col("剩余天数", "days_left", "int"),
        Col("案件编号", "case_id", "code"),
        Col("案件状态", "case_status"),
    ]
    return cols, [_with_head(r) for r in data]


def _case_sheet_sql(extra_select: str = "", where: str = "") -> str:
    return f"""
        WITH cs AS (SELECT * FROM case_status_daily WHERE as_of_date = $d AND county_code = $c),
        ev AS (SELECT case_id,
                      string_agg(DISTINCT evidence_zh, '；' ORDER BY evidence_zh) FILTER (
                          WHERE event IN ('比对异常', '补充比对异常', '补充公示未通过')) AS anomaly_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '走访结果') AS visit_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '自动比对') AS check_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '公示结果') AS publication_zh
               FROM case_events WHERE processed_date <= $d AND case_id IN (SELECT case_id FROM cs) GROUP BY 1),
        ex AS (SELECT household_id, string_agg(DISTINCT check_code, ';' ORDER BY check_code) AS exclusion_codes
               FROM exclusion_hits WHERE as_of_date = $d AND county_code = $c GROUP BY 1),
        s AS (SELECT * FROM household_scores WHERE as_of_date = $d AND county_code = $c)
        SELECT cs.*, hh.village_name, hh.head_name, hh.head_id, hh.household_size, hh.household_type,
               ev.anomaly_zh, ev.visit_zh, ev.check_zh, ev.publication_zh, ex.exclusion_codes,
               s.risk_level, s.probability, s.explanation_zh,
               b.start_date AS pub_start, b.end_date AS pub_end {extra_select}
        FROM cs LEFT JOIN ev USING (case_id) LEFT JOIN ex USING (household_id) LEFT JOIN s USING (household_id)
        LEFT JOIN publication_batches b ON b.batch_id = cs.batch_id
        {HH.format(t="cs")}
        WHERE {where or "true"}
        ORDER BY coalesce(cs.township, ''), coalesce(cs.village_code, ''), cs.household_id, cs.case_id"""


BASE = [
    Col("案件编号", "case_id", "code"),
    Col("乡镇", "township"),
    Col("行政村", "village_name"),
    Col("村代码", "village_code", "code"),
    Col("户编号", "household_id", "code"),
    Col("户主姓名", "head_name"),
    Col("户主证件号码（脱敏）", "head_id_masked"),
]


def anomalies(con, day, county):
    data = rows(con, _case_sheet_sql(where="cs.case_status = '比对异常'"), {"d": day, "c": county})
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
    return cols, [_with_head(r) for r in data]


def publication(con, day, county):
    data = rows(con, _case_sheet_sql(where="cs.case_status IN ('待公示', '公示中')"), {"d": day, "c": county})
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
    return cols, [_with_head(r) for r in data]


def to_confirm(con, day, county):
    data = rows(con, _case_sheet_sql(where="cs.case_status = '待确认'"), {"d": day, "c": county})
    cols = BASE + [
        Col("户类型", "household_type"),
        Col("家庭人口", "household_size", "int"),
        Col("来源", "sources"),
        Col("风险类型", "risk_types"),
        Col("规则代码", "rule_codes"),
        Col("风险等级", "risk_level", "level"),
        Col("风险评分", "probability", "score"),
        Col("绿色通道", "green_channel"),
        Col("立案日期", "opened_date", "date"),
        Col("进入待确认日期", "state_since", "date"),
        Col("决定截止日期", "due_date", "date"),
        Col("是否逾期", "overdue"),
        Col("公示批次", "batch_id", "code"),
        Col("公示开始日期", "pub_start", "date"),
        Col("公示结束日期", "pub_end", "date"),
        Col("预警证据", "explanation_zh", width=60),
        Col("走访结论", "visit_zh", width=50),
        Col("比对结论", "check_zh", width=40),
        Col("公示结果", "publication_zh", width=30),
    ]
    return cols, [_with_head(r) for r in data]


def elimination(con, day, county):
    data = rows(
        con,
        f"""
        SELECT e.*, hh.village_name, hh.head_name, hh.head_id FROM elimination_candidates e {HH.format(t="e")}
        WHERE e.as_of_date = $d AND e.county_code = $c {ORDER.format(t="e")}""",
        {"d": day, "c": county},
    )
    cols = [
        Col("乡镇", "township"),
        Col("行政村", "village_name"),
        Col("村代码", "village_code", "code"),
        Col("户编号", "household_id", "code"),
        Col("户主姓名", "head_name"),
        Col("户主证件号码（脱敏）", "head_id_masked"),
        Col("案件编号", "case_id", "code"),
        Col("纳入监测日期", "monitored_since", "date"),
        Col("已监测月数", "monitored_months", "int"),
        Col("人均纯收入（扣除合规自付支出，元）", "income_position", "amount"),
        Col("监测范围（元）", "monitoring_line", "amount"),
        Col("最近一次规则预警日期", "last_rule_date", "date"),
        Col("各项条件的证据", "evidence_zh", width=80),
    ]
    return cols, [_with_head(r) for r in data]


def overdue(con, day, county):
    data = rows(con, _case_sheet_sql(where="cs.overdue"), {"d": day, "c": county})
    for r in data:
        r["responsible"] = "、".join(x for x in (r.get("township"), r.get("village_name")) if x)
    cols = BASE + [
        Col("案件状态", "case_status"),
        Col("进入状态日期", "state_since", "date"),
        Col("时限截止日期", "due_date", "date"),
        Col("逾期天数", "days_overdue", "int"),
        Col("待走访任务", "open_task_id", "code"),
        Col("责任单位（乡镇、村）", "responsible"),
    ]
    return cols, [_with_head(r) for r in data]


QUALITY_COLS = [
    Col("来源数据", "feed"),
    Col("报送部门", "department"),
    Col("文件", "file"),
    Col("行号", "row", "int"),
    Col("字段/问题类型", "field"),
    Col("原值（脱敏）", "raw_value"),
    Col("问题", "problem", width=60),
    Col("户编号", "household_id", "code"),
    Col("证件号码（脱敏）", "id_masked"),
    Col("处理方式", "handling"),
    Col("应由何部门修正", "fix_by"),
]


def _quality_data(con, day, county, known=None):
    data = quality_rows(con, day, county, known)
    for r in data:
        raw, in_id_column = r.get("raw_value"), r["field"] in id_headers(r["feed"])
        r["raw_value"] = (mask_id(raw) if in_id_column else mask_text(raw)) if raw else ""
        r["feed"] = feed_title(r["feed"])
        r["field"] = QUALITY_KINDS_ZH.get(r["field"], r["field"])
        r["id_masked"] = mask_id(r["id_masked"]) if r.get("id_masked") else ""
        r["fix_by"] = f"{r['fix_by']}：请核对并更正后在下次报送中重新提供" if r.get("fix_by") else "请报送部门核对"
    return data


def overview(con, day, county, policy, sheets: dict[str, int], model: str | None):
    data: list[dict] = []

    def add(kind, item, value, note=""):
        data.append({"kind": kind, "item": item, "value": value, "note": note})

    add("基本信息", "交付日期", day)
    add("基本信息", "模型版本", model or "尚未启用模型")
    for r in rows(
        con,
        """SELECT case_status, count(*) AS n, count(*) FILTER (WHERE overdue) AS o FROM case_status_daily
                          WHERE as_of_date = ? AND county_code = ? GROUP BY 1 ORDER BY 1""",
        [day, county],
    ):
        add("案件状态", r["case_status"], r["n"], f"其中逾期 {r['o']} 件")
    for r in rows(
        con,
        """SELECT coalesce(township, '（未知乡镇）') AS t, case_status, count(*) AS n FROM case_status_daily
                          WHERE as_of_date = ? AND county_code = ? GROUP BY ALL ORDER BY 1, 2""",
        [day, county],
    ):
        add("乡镇案件", f"{r['t']}：{r['case_status']}", r["n"])
    opened = rows(
        con,
        "SELECT count(*) AS n FROM case_status_daily WHERE as_of_date = ? AND county_code = ? AND opened_date = ?",
        [day, county, day],
    )[0]["n"]
    add("今日", "新增预警（户）", sheets.get("新增预警", 0))
    add("今日", "新立案件", opened)
    add("今日", "待走访任务", sheets.get("排查任务", 0))
    add("今日", "逾期案件", sheets.get("逾期提醒", 0))
    add("今日", "风险消除候选", sheets.get("风险消除候选", 0))
    for r in rows(
        con,
        """SELECT feed, count(*) AS n FROM data_quality_issues WHERE delivery_date = ? AND county_code = ?
                          GROUP BY 1 ORDER BY 1""",
        [day, county],
    ):
        add("数据质量", f"跨部门比对问题：{feed_title(r['feed'])}", r["n"])
    add("数据质量", "问题行合计", sheets.get("数据质量问题", 0))
    for f in feed_freshness(con, day):
        add(
            "数据时效",
            feed_title(f["feed"]),
            f["last_applied_delivery"] or "无",
            "" if f["age_days"] is None else f"距今 {f['age_days']} 天",
        )
    add("阈值", f"{day.year} 年监测范围（元/人/年）", policy.monitoring_line(day.year))
    add("阈值", "风险等级“高”模型概率", policy.risk_levels.high_probability)
    add("阈值", "风险等级“中”模型概率", policy.risk_levels.medium_probability)
    add("阈值", "模型预警概率", policy.risk_levels.model_warning_probability)
    add("阈值", "其他规则阈值", "见“说明”工作表")
    cols = [
        Col("类别", "kind"),
        Col("项目", "item", width=40),
        Col("数值", "value", "auto", width=16),
        Col("备注", "note", width=30),
    ]
    return cols, data


def county_workbook(
    con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy, model: str | None
) -> tuple[bytes, dict[str, int]]:
    """The workbook's bytes and the row count of each sheet (in sheet order)."""
    built = {
        "新增预警": new_alerts(con, day, county),
        "排查任务": visit_tasks(con, day, county),
        "比对异常": anomalies(con, day, county),
        "公示名单": publication(con, day, county),
        "待确认": to_confirm(con, day, county),
        "风险消除候选": elimination(con, day, county),
        "逾期提醒": overdue(con, day, county),
        "回传处理结果": receipt_sheet(con, day, county, {c.feed: c.title for c in all_contracts()}),
        "数据质量问题": (QUALITY_COLS, _quality_data(con, day, county)),
        "说明": notes(policy, day, model),
    }
    counts = {k: len(v[1]) for k, v in built.items()}
    built["工作概览"] = overview(con, day, county, policy, counts, model)
    w = _Writer(day)
    out = {name: w.sheet(name, *built[name]) for name in SHEETS}
    return w.close(), out


def unplaced_workbook(con: duckdb.DuckDBPyConnection, day: date, known: list[str]) -> tuple[bytes, int]:
    w = _Writer(day)
    n = w.sheet("数据质量问题", QUALITY_COLS, _quality_data(con, day, None, known))
    return w.close(), n
