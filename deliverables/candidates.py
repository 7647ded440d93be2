"""candidates.csv: every household with an open case (待排查 … 待确认) or flagged today by a rule or the model."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from fangfanpin.config.policy import Policy
from fangfanpin.deliverables.data import FLAGGED, OPEN, frame_of
from fangfanpin.deliverables.masking import mask_id, mask_text, masked, neutralised
from fangfanpin.workflow.decide.day import SOURCES

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

# The households' heads are joined only for the listed households (SEMI JOIN k): once the warehouse holds many dates,
# DuckDB's estimates would otherwise build the join from every household of the region, once a county.
CANDIDATES_SQL = f"""
WITH s AS (SELECT * FROM household_scores WHERE as_of_date = $d AND county_code = $c),
csd AS (SELECT * FROM case_status_daily WHERE as_of_date = $d AND county_code = $c),
op AS (SELECT * FROM csd WHERE list_contains($open::VARCHAR[], case_status)),
fired AS (SELECT household_id FROM s WHERE {FLAGGED}),
lc AS (SELECT * FROM dlv_cases WHERE county_code = $c
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
     LEFT JOIN (SELECT * FROM dlv_hh SEMI JOIN k USING (household_id)) hh ON hh.household_id = k.household_id
"""


# The CSV's columns from a candidate's row, in named steps: the sets of rules, types and sources of today's flags and
# of the household's case, merged and ordered as the county reads them.
CANDIDATE_SETS_SQL = """
SELECT *,
       list_filter(string_split(today_rules, ';'), lambda x: x NOT IN ('', 'MODEL')) AS today_rule_list,
       list_contains(string_split(today_rules, ';'), 'MODEL') AS today_model,
       list_filter(string_split(case_rules, ';'), lambda x: x NOT IN ('', 'MODEL')) AS case_rule_list,
       list_contains(string_split(case_rules, ';'), 'MODEL') AS case_model,
       list_distinct(list_filter(string_split(today_types || ';' || case_types, ';'), lambda x: x <> '')) AS type_list,
       string_split(case_sources, ';') AS case_source_list
FROM candidates
"""
CANDIDATE_COLUMNS_SQL = """
SELECT coalesce(township, '') AS township, strftime($d, '%Y-%m-%d') AS run_date, $c AS county_code,
       coalesce(village_code, '') AS village_code, household_id, coalesce(head_name, '') AS head_name, head_id,
       coalesce(household_type, '') AS household_type, coalesce(risk_level, '低') AS risk_level,
       coalesce(printf('%.4f', probability), '') AS risk_score,
       array_to_string(list_transform(
           list_sort(list_transform(type_list, lambda t: {'o': coalesce(list_position($risk_types, t) - 1, 99), 't': t})),
           lambda x: x.t), ';') AS risk_types,
       CASE WHEN len(rules) = 0 AND (model_warning OR today_model OR case_model) THEN 'MODEL'
            ELSE array_to_string(rules, ';') END
           AS rule_codes,
       array_to_string(list_filter($sources::VARCHAR[], lambda s: list_contains(case_source_list, s)
           OR (s = '部门预警' AND len(today_rule_list) > 0) OR (s = '模型预警' AND model_warning)), ';') AS sources,
       coalesce(case_id, '') AS case_id,
       coalesce(nullif(case_status, ''), CASE WHEN monitored THEN '已纳入' ELSE '' END) AS case_status,
       coalesce(strftime(state_since, '%Y-%m-%d'), '') AS state_since,
       coalesce(strftime(due_date, '%Y-%m-%d'), '') AS due_date,
       CASE WHEN overdue THEN '是' ELSE '否' END AS overdue,
       coalesce(nullif(today_explanation, ''), case_evidence, '') AS explanation
FROM (SELECT *, list_sort(list_distinct(today_rule_list || case_rule_list)) AS rules FROM candidate_sets)
ORDER BY township, village_code, household_id
"""


def candidate_rows(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy) -> pl.DataFrame:
    """One row per candidate household, by township, village and household: the CSV columns, the head's ID masked
    and the evidence passed through the masking function."""
    params = {"d": day, "c": county, "open": OPEN, "risk_types": list(policy.risk_types), "sources": list(SOURCES)}
    sql = f"WITH candidates AS ({CANDIDATES_SQL}), candidate_sets AS ({CANDIDATE_SETS_SQL}) {CANDIDATE_COLUMNS_SQL}"
    frame = frame_of(con, sql, params)
    return frame.with_columns(
        masked(pl.col("head_id"), mask_id).alias("head_id_masked"), masked(pl.col("explanation"), mask_text)
    ).select(COLUMNS)


def candidates_csv(rows_: pl.DataFrame) -> bytes:
    """UTF-8 with BOM, comma separated, CRLF line ends (Excel's default), the columns of docs/outputs.md in order; a cell
    that Excel or WPS would run as a formula (a head name ``=HYPERLINK(…)``) starts with a single quote. Empty cells
    are written bare, as Python's csv module does (polars would quote an empty string)."""
    cells = rows_.select(neutralised(pl.col(c)).replace("", None).alias(c) for c in COLUMNS)
    return cells.write_csv(include_bom=True, line_terminator="\r\n", quote_style="necessary").encode("utf-8")
