"""candidates.csv: every household with an open case (待排查 … 待确认) or flagged today by a rule or the model."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables.data import FLAGGED, OPEN, SOURCES, rows
from fangfanpin.deliverables.masking import mask_id, mask_text, neutralise_formula

COLUMNS = (
    "run_date",
    "county_code",
    "village_code",
    "household_id",
    "head_name",
    "head_id_masked",
    "household_type",
    "risk_level",
    "risk_score",
    "risk_types",
    "rule_codes",
    "sources",
    "case_id",
    "case_status",
    "state_since",
    "due_date",
    "overdue",
    "explanation",
)
COLUMN_DOCS = {
    "run_date": "交付日期",
    "county_code": "县级行政区划代码（6位）",
    "village_code": "行政村代码（12位）",
    "household_id": "户编号",
    "head_name": "户主姓名",
    "head_id_masked": "户主证件号码（前6位+********+后4位）",
    "household_type": "脱贫户/监测户/一般农户",
    "risk_level": "高/中/低",
    "risk_score": "模型概率（4位小数，无模型时为空）",
    "risk_types": "风险类型（;分隔）",
    "rule_codes": "规则代码（;分隔；仅模型预警为 MODEL）",
    "sources": "部门预警/模型预警/农户申请/干部排查",
    "case_id": "案件编号",
    "case_status": "案件状态",
    "state_since": "进入当前状态日期",
    "due_date": "当前状态截止日期",
    "overdue": "是/否",
    "explanation": "预警证据",
}

CANDIDATES_SQL = f"""
WITH s AS (SELECT * FROM household_scores WHERE as_of_date = $d AND county_code = $c),
csd AS (SELECT * FROM case_status_daily WHERE as_of_date = $d AND county_code = $c),
op AS (SELECT * FROM csd WHERE list_contains($open::VARCHAR[], case_status)),
fired AS (SELECT household_id FROM s WHERE {FLAGGED}),
lc AS (SELECT * FROM cases_asof($d) WHERE county_code = $c
       QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY opened_date DESC, case_id DESC) = 1),
ids AS (SELECT household_id FROM op UNION SELECT household_id FROM fired),
k AS (SELECT ids.household_id, coalesce(op.case_id, lc.case_id) AS case_id
      FROM ids LEFT JOIN op USING (household_id) LEFT JOIN lc USING (household_id)),
ev AS (SELECT case_id, evidence_zh FROM case_events WHERE processed_date <= $d AND evidence_zh IS NOT NULL
         AND evidence_zh <> '' AND case_id IN (SELECT case_id FROM k)
       QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY event_seq DESC) = 1)
SELECT k.household_id, k.case_id, coalesce(s.township, cs.township, lc.township, hh.township) AS township,
       coalesce(s.village_code, cs.village_code, lc.village_code, hh.village_code) AS village_code,
       hh.head_name, hh.head_id, coalesce(s.household_type, hh.household_type) AS household_type,
       s.risk_level, s.probability, coalesce(s.monitored, false) AS monitored, coalesce(s.model_warning, false) AS model_warning,
       coalesce(s.rule_codes, '') AS today_rules, coalesce(s.risk_types, '') AS today_types,
       coalesce(s.explanation_zh, '') AS today_explanation,
       coalesce(cs.rule_codes, lc.rule_codes, '') AS case_rules, coalesce(cs.risk_types, lc.risk_types, '') AS case_types,
       coalesce(cs.sources, lc.sources, '') AS case_sources, coalesce(cs.case_status, lc.state) AS case_status,
       coalesce(cs.state_since, lc.state_since) AS state_since, coalesce(cs.due_date, lc.due_date) AS due_date,
       coalesce(cs.overdue, false) AS overdue, ev.evidence_zh AS case_evidence
FROM k LEFT JOIN s USING (household_id) LEFT JOIN csd cs ON cs.case_id = k.case_id
     LEFT JOIN lc ON lc.case_id = k.case_id LEFT JOIN ev ON ev.case_id = k.case_id
     LEFT JOIN dlv_hh hh ON hh.household_id = k.household_id
"""


def _split(text: str | None) -> set[str]:
    return {x for x in (text or "").split(";") if x}


def candidate_rows(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy) -> list[dict]:
    """One dict per candidate household, the CSV columns plus township (for sorting and the workbook)."""
    order = {t: i for i, t in enumerate(policy.risk_types)}
    out = []
    for r in rows(con, CANDIDATES_SQL, {"d": day, "c": county, "open": OPEN}):
        today_rules = _split(r["today_rules"]) - {"MODEL"}
        rules = sorted(today_rules | (_split(r["case_rules"]) - {"MODEL"}))
        if not rules and (r["model_warning"] or "MODEL" in _split(r["today_rules"])):
            rules = ["MODEL"]
        types = sorted(_split(r["today_types"]) | _split(r["case_types"]), key=lambda t: (order.get(t, 99), t))
        sources = _split(r["case_sources"]) & set(SOURCES)
        if today_rules:
            sources.add("部门预警")
        if r["model_warning"]:
            sources.add("模型预警")
        status = r["case_status"] or ("已纳入" if r["monitored"] else "")
        p = r["probability"]
        out.append(
            {
                "township": r["township"] or "",
                "run_date": day.isoformat(),
                "county_code": county,
                "village_code": r["village_code"] or "",
                "household_id": r["household_id"],
                "head_name": r["head_name"] or "",
                "head_id_masked": mask_id(r["head_id"]),
                "household_type": r["household_type"] or "",
                "risk_level": r["risk_level"] or "低",
                "risk_score": "" if p is None else f"{p:.4f}",
                "risk_types": ";".join(types),
                "rule_codes": ";".join(rules),
                "sources": ";".join(s for s in SOURCES if s in sources),
                "case_id": r["case_id"] or "",
                "case_status": status,
                "state_since": r["state_since"].isoformat() if r["state_since"] else "",
                "due_date": r["due_date"].isoformat() if r["due_date"] else "",
                "overdue": "是" if r["overdue"] else "否",
                "explanation": mask_text(r["today_explanation"] or r["case_evidence"] or ""),
            }
        )
    out.sort(key=lambda x: (x["township"], x["village_code"], x["household_id"]))
    return out


def candidates_csv(rows_: list[dict]) -> bytes:
    """UTF-8 with BOM, comma separated, CRLF line ends (Excel's default), the columns of docs/outputs.md in order; a cell
    that Excel or WPS would run as a formula (a head name ``=HYPERLINK(…)``) starts with a single quote."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in rows_:
        w.writerow([neutralise_formula(r[c]) for c in COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
