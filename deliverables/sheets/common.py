"""What the sheets share: the household columns (temp table ``dlv_hh``, deliverables/data.py), the row order, the
masked head ID, and the query every case sheet starts from."""

from __future__ import annotations

from fangfanpin.deliverables.masking import mask_id
from fangfanpin.deliverables.xlsx import Col

HH = "LEFT JOIN dlv_hh hh ON hh.household_id = {t}.household_id"
ORDER = "ORDER BY coalesce({t}.township, ''), coalesce({t}.village_code, ''), {t}.household_id"

PLACE = [
    Col("乡镇", "township"),
    Col("行政村", "village_name"),
    Col("村代码", "village_code", "code"),
    Col("户编号", "household_id", "code"),
    Col("户主姓名", "head_name"),
    Col("户主证件号码（脱敏）", "head_id_masked"),
]
BASE = [Col("案件编号", "case_id", "code")] + PLACE


# A household whose roster in force has no 户主 row (the row was quarantined, or not delivered): the cells say so
# instead of staying blank, so the county checks the data-quality sheet before the visit.
NO_HEAD_ZH = "名单中无户主，请核实（见数据质量问题）"


def head_name_or_note(name: str | None, id_number: str | None) -> str:
    """The head's name; without name or ID number, NO_HEAD_ZH.

    >>> head_name_or_note(None, None)
    '名单中无户主，请核实（见数据质量问题）'
    >>> head_name_or_note("张三", None)
    '张三'
    """
    return name if name else ("" if id_number else NO_HEAD_ZH)


def with_head(r: dict) -> dict:
    head_id = r.pop("head_id", None)
    r["head_name"] = head_name_or_note(r.get("head_name"), head_id)
    r["head_id_masked"] = mask_id(head_id)
    return r


def case_sheet_sql(extra_select: str = "", where: str = "", order: str = "") -> str:
    """The day's cases of the county (``case_status_daily``) with household, evidence, score, the batch they wait in
    (``b``) and the latest publication they went through (``pub``: batch, period, purpose, outcome so far).
    ``where`` (on ``cs``'s columns only) picks the cases first, so that only theirs are gathered.
    Parameters: $d (the delivery date), $c (the county)."""
    return f"""
        WITH cs AS (SELECT * FROM case_status_daily cs WHERE cs.as_of_date = $d AND cs.county_code = $c
                    AND ({where or "true"})),
        ev AS (SELECT case_id,
                      string_agg(DISTINCT evidence_zh, '；' ORDER BY evidence_zh) FILTER (
                          WHERE event IN ('比对异常', '补充比对异常', '补充公示未通过')) AS anomaly_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '走访结果') AS visit_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '自动比对') AS check_zh,
                      arg_max(evidence_zh, event_seq) FILTER (WHERE source = '公示结果') AS publication_zh
               FROM case_events WHERE processed_date <= $d AND case_id IN (SELECT case_id FROM cs) GROUP BY 1),
        ex AS (SELECT household_id, string_agg(DISTINCT check_code, ';' ORDER BY check_code) AS exclusion_codes
               FROM exclusion_hits WHERE as_of_date = $d AND county_code = $c GROUP BY 1),
        s AS (SELECT * FROM household_scores WHERE as_of_date = $d AND county_code = $c),
        pub AS (SELECT m.case_id, m.batch_id AS pub_batch, m.purpose AS pub_purpose, b.start_date AS pub_start_last,
                       b.end_date AS pub_end_last, o.passed AS pub_passed, o.result_date AS pub_result_date,
                       (SELECT arg_max(e.evidence_zh, e.event_seq) FROM case_events e
                        WHERE e.case_id = m.case_id AND e.batch_id = m.batch_id AND e.source = '公示结果'
                          AND e.processed_date <= $d) AS pub_result_zh
                FROM publication_members m JOIN publication_batches b USING (batch_id)
                LEFT JOIN publication_outcomes o
                       ON o.batch_id = m.batch_id AND o.household_id = m.household_id AND o.processed_date <= $d
                WHERE m.processed_date <= $d AND m.case_id IN (SELECT case_id FROM cs)
                QUALIFY row_number() OVER (PARTITION BY m.case_id ORDER BY b.processed_date DESC, m.batch_id DESC) = 1)
        SELECT cs.*, hh.village_name, hh.head_name, hh.head_id, hh.household_size, hh.household_type,
               ev.anomaly_zh, ev.visit_zh, ev.check_zh, ev.publication_zh, ex.exclusion_codes,
               s.risk_level, s.probability, s.severity_max, s.explanation_zh,
               b.start_date AS pub_start, b.end_date AS pub_end, pub.* EXCLUDE (case_id) {extra_select}
        FROM cs LEFT JOIN ev USING (case_id) LEFT JOIN ex USING (household_id) LEFT JOIN s USING (household_id)
        LEFT JOIN publication_batches b ON b.batch_id = cs.batch_id
        LEFT JOIN pub USING (case_id)
        {HH.format(t="cs")}
        ORDER BY {order + ", " if order else ""}coalesce(cs.township, ''), coalesce(cs.village_code, ''),
                 cs.household_id, cs.case_id"""
