"""Loading one delivery date's inputs from the warehouse into plain Python data (``decide.DayInputs``).

Each input is one query for the whole day (a query per visit or publication result was a third of the ledger step).
The ledger writes only after the day is decided, so these read the warehouse as it stood when the day began. One
table is filled here: ``elimination_candidates``, the SQL listing of the day's 风险消除 candidates with their
evidence, which is both what the county reads and what the decisions start from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta

import duckdb
import polars as pl

from fangfanpin.config.policy import Policy
from fangfanpin.workflow import states as S
from fangfanpin.workflow.decide import Case, DayInputs
from fangfanpin.workflow.elimination import compute_candidates


def _rows(con, sql: str, params: list) -> list[dict]:
    return con.sql(sql, params=params).pl().to_dicts()


class HouseholdRows(Mapping):
    """A day's household rows by household_id, each made a dict when it is read: a day's decisions read the
    households of its cases, warnings and returns, a few of a province's million. Iterating the items (the first
    run's roster import) makes them all."""

    def __init__(self, frame: pl.DataFrame):
        self._frame = frame
        self._ids = frame.get_column("household_id").to_list()
        self._at = dict(zip(self._ids, range(frame.height)))

    def __getitem__(self, household_id: str) -> dict:
        return self._frame.row(self._at[household_id], named=True)

    def __contains__(self, household_id: object) -> bool:
        return household_id in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def items(self):
        return zip(self._ids, self._frame.iter_rows(named=True))


def load_day(con: duckdb.DuckDBPyConnection, day: date, policy: Policy) -> DayInputs:
    """Everything the decisions of ``day`` read."""
    households = HouseholdRows(
        con.sql(
            """
        SELECT household_id, county_code, township, village_code, monitored, risk_identified_date,
               housing_grade, renovation_status, dropouts, uninsured_members, roster_water_unsafe,
               children_missing_school
        FROM household_indicators WHERE as_of_date = ?""",
            params=[day],
        ).pl()
    )
    visits, publications, decisions = (_feed_rows(con, day, kind) for kind in ("visit", "publication", "decision"))
    published = _published(con, publications)
    return DayInputs(
        day=day,
        households=households,
        cases=load_cases(con, day, policy.workflow.declined_cooldown_days, [m["case_id"] for m in published.values()]),
        first_run=con.execute("SELECT count(*) FROM case_events").fetchall()[0][0] == 0,
        applications=_applications(con, day),
        visits=visits,
        publications=publications,
        decisions=decisions,
        tasks=_tasks(con, visits),
        exclusions=_exclusions(con, day),
        published=published,
        warnings=_warnings(con, day),
        model_openings=_model_openings(con, day),
        elimination_candidates=compute_candidates(con, day, policy),
    )


def load_cases(con: duckdb.DuckDBPyConnection, day: date, cooldown_days: int, published: list[str]) -> dict[str, Case]:
    """The cases a day can touch: open ones, those declined within the cool-down, those opened today (a re-run) and
    those today's publication results name. A closed case beyond these is never read again, and loading every case
    ever opened made the day's work grow with the ledger's history."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE wf_day_cases AS
        SELECT * FROM cases
        WHERE NOT list_contains(?::VARCHAR[], state) OR (state = ? AND state_since > ?::DATE - ?::INT)
           OR opened_date = ? OR list_contains(?::VARCHAR[], case_id)""",
        [list(S.CLOSED_STATES), S.不予纳入, day, cooldown_days, day, published],
    )
    out = {}
    for r in _rows(con, "SELECT * FROM wf_day_cases ORDER BY case_id", []):
        c = Case(
            r["case_id"],
            r["household_id"],
            r["county_code"],
            r["township"],
            r["village_code"],
            r["opened_date"],
            r["state"],
            r["state_since"],
            r["last_event_seq"],
            [t for t in (r["risk_types"] or "").split(";") if t],
            {t for t in (r["rule_codes"] or "").split(";") if t},
            {t for t in (r["sources"] or "").split(";") if t},
            None,
            bool(r["green_channel"]),
            r["due_date"],
        )
        out[c.case_id] = c
    if not out:
        return out
    for case_id, task_id in con.execute(
        "SELECT case_id, task_id FROM visit_task_status WHERE status = '待走访' ORDER BY issued_date"
    ).fetchall():
        if case_id in out:
            out[case_id].open_task = task_id
    for case_id, sev in (
        con.execute("""SELECT case_id, max(CASE severity WHEN '高' THEN 2 WHEN '中' THEN 1 ELSE 0 END)
                                       FROM case_events SEMI JOIN wf_day_cases USING (case_id) GROUP BY 1""").fetchall()
    ):
        if case_id in out:
            out[case_id].severity = {2: "高", 1: "中"}.get(sev)
    for case_id, event, d in con.execute("""
            SELECT case_id, event, max(event_date) FROM case_events SEMI JOIN wf_day_cases USING (case_id)
            WHERE event IN ('补充比对通过', '补充比对异常', '补充公示发布', '补充公示通过', '补充公示未通过', '绿色通道', '风险消除候选')
            GROUP BY 1, 2""").fetchall():
        c = out.get(case_id)
        if c is None:
            continue
        if event in ("补充比对通过", "补充比对异常"):
            c.supp_check_done = True
        elif event == "补充公示发布":
            c.supp_pub = "published" if c.supp_pub != "passed" else c.supp_pub
        elif event in ("补充公示通过", "补充公示未通过"):
            c.supp_pub = "passed"
        elif event == "风险消除候选":
            c.elimination_started = max(d, c.elimination_started or d)
    for c in out.values():
        if c.green and c.supp_check_done and c.supp_pub is None and c.state in (S.待确认, S.已纳入):
            c.supp_pub = "pending"
    return out


def _applications(con, day: date) -> list[dict]:
    """The day's applications and the earlier ones still unmatched, with the household their head's ID names."""
    return _rows(
        con,
        """
        WITH pending AS (
            SELECT DISTINCT ref FROM workflow_issues WHERE kind = '申请未匹配农户' AND processed_date < ?
            EXCEPT SELECT source_ref FROM case_events WHERE source_feed = 'applications'),
        apps AS (
            SELECT * FROM applications_asof(?::DATE) a
            WHERE a._delivery_date = ? OR a.application_id IN (SELECT ref FROM pending)),
        persons AS (SELECT id_number, household_id FROM roster_in_force(?::DATE))
        SELECT a.application_id, a.application_date, a.channel, a.applicant_name, a.reason, a.details, a._file,
               a._row, a.county_code, a._delivery_date, p.household_id
        FROM apps a LEFT JOIN persons p ON p.id_number = a.head_id_number
        ORDER BY a.application_date, a._delivery_date, a._file, a._row, a.application_id""",
        [day, day, day, day],
    )


def _feed_rows(con, day: date, kind: str) -> list[dict]:
    sql = {
        "visit": "SELECT * FROM visit_results WHERE _delivery_date = ? ORDER BY visit_date, household_id, _file, _row",
        "publication": "SELECT * FROM publication_results WHERE _delivery_date = ? ORDER BY end_date, batch_id, household_id, _file, _row",
        "decision": "SELECT * FROM county_decisions WHERE _delivery_date = ? ORDER BY decision_date, household_id, decision_type, _file, _row",
    }[kind]
    return _rows(con, sql, [day])


def _tasks(con, visits: list[dict]) -> dict[str, dict]:
    """The visit tasks the day's visit results name."""
    task_ids = sorted({(r["task_id"] or "").strip() for r in visits} - {""})
    if not task_ids:
        return {}
    return {
        r["task_id"]: r
        for r in _rows(con, "SELECT * FROM visit_task_status WHERE list_contains(?, task_id)", [task_ids])
    }


def _exclusions(con, day: date) -> dict[str, list[str]]:
    """Each household's exclusion findings of the day in Chinese, as the review task and the ledger quote them (the
    codes stay in exclusion_hits, which the workbook's 比对异常 sheet lists as 排除情形代码)."""
    found = con.execute(
        """SELECT household_id, list(explanation_zh ORDER BY check_code, explanation_zh) FROM exclusion_hits
           WHERE as_of_date = ? GROUP BY household_id""",
        [day],
    ).fetchall()
    return dict(found)


def _published(con, publications: list[dict]) -> dict[tuple[str, str], dict]:
    """The publication members the day's results name, with their batch and any outcome already recorded."""
    pairs = {(r["batch_id"], r["household_id"]) for r in publications}
    if not pairs:
        return {}
    found = _rows(
        con,
        """
        SELECT b.*, m.household_id, m.case_id, m.purpose, o.passed
        FROM publication_members m JOIN publication_batches b USING (batch_id)
        LEFT JOIN publication_outcomes o USING (batch_id, household_id)
        JOIN (SELECT unnest(?::VARCHAR[]) AS batch_id, unnest(?::VARCHAR[]) AS household_id) w
             USING (batch_id, household_id)""",
        [list(column) for column in zip(*pairs)],
    )
    return {(r["batch_id"], r["household_id"]): r for r in found}


def _warnings(con, day: date) -> list[dict]:
    """One row per household with a rule hit or a model warning: from the scores, or (no scoring stage yet) from
    the rules alone."""
    use_scores = con.execute("SELECT count(*) FROM household_scores WHERE as_of_date = ?", [day]).fetchall()[0][0] > 0
    if use_scores:
        sql = """SELECT household_id, village_code, coalesce(rule_codes, '') AS rule_codes, risk_types, severity_max,
                        probability, monitored, coalesce(model_warning, false) AS model_warning, explanation_zh
                 FROM household_scores WHERE as_of_date = ? AND flagged(rule_codes, model_warning)"""
    else:  # no scoring stage yet: department warnings straight from the rules
        sql = """SELECT household_id, any_value(village_code) AS village_code, string_agg(DISTINCT rule_code, ';' ORDER BY rule_code) AS rule_codes,
                        string_agg(DISTINCT risk_type, ';' ORDER BY risk_type) AS risk_types,
                        CASE WHEN bool_or(severity = '高') THEN '高' ELSE '中' END AS severity_max, NULL::DOUBLE AS probability,
                        bool_or(monitored) AS monitored, false AS model_warning,
                        string_agg(explanation_zh, '；' ORDER BY rule_code) AS explanation_zh
                 FROM rule_hits WHERE as_of_date = ? GROUP BY household_id"""
    return _rows(con, sql, [day])


def _model_openings(con, day: date) -> dict[str, int]:
    """模型预警 cases opened per village since Monday of the day's week (the model's weekly capacity)."""
    week_start = day - timedelta(days=day.weekday())
    return dict(
        con.execute(
            """SELECT village_code, count(*) FROM case_openings WHERE opening_source = '模型预警'
                               AND opened_date BETWEEN ? AND ? GROUP BY 1""",
            [week_start, day],
        ).fetchall()
    )
