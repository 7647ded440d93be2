"""One day of the dynamic-management workflow: opening cases, moving them, issuing tasks and publication batches.

Order within a day (deterministic, so a re-run writes the same rows):
  0. first run only: monitored households of the roster enter 已纳入 (花名册导入);
  1. applications (农户申请; plus earlier applications still unmatched), by application date, file, row;
  2. visit results, then publication results, then county decisions, each by its own date, household, file, row;
  3. warnings of the day (部门预警, then 模型预警 within the village's weekly capacity, highest probability first);
  4. 风险消除 candidates (SQL) enter the elimination flow;
  5. publication batches for every village with cases in 待公示 / 消除待公示 / awaiting 补充公示;
  6. task numbers are assigned (RW-<county>-<YYYYMMDD>-<NNNN>, by village, household, case) and every row is written.
Every event carries event_date = the processed date; the date the source row names is kept as effective_date.
An event that does not fit the case's state is written to workflow_issues (in Chinese), never applied.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from fangfanpin.config.policy import Policy
from fangfanpin.core.arrow import registered
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days
from fangfanpin.workflow.cases import rebuild_cases
from fangfanpin.workflow.elimination import compute_candidates

SOURCES = ("部门预警", "模型预警", "农户申请", "干部排查")
SEVERITY_RANK = {None: 0, "": 0, "中": 1, "高": 2}
TASK_STATES = {S.待排查: "排查", S.比对异常: "复核", S.消除待排查: "风险消除"}
_SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass
class Case:
    case_id: str
    household_id: str
    county_code: str | None
    township: str | None
    village_code: str | None
    opened_date: date
    state: str
    state_since: date
    seq: int
    risk_types: list[str] = field(default_factory=list)
    rule_codes: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    severity: str | None = None
    green: bool = False
    due_date: date | None = None
    open_task: str | None = None  # task id (or a pending request key) of the open visit task
    supp_check_done: bool = False  # 绿色通道: 补充比对 done
    supp_pub: str | None = None  # 绿色通道: None / 'pending' (to publish) / 'published' / 'passed'
    elimination_started: date | None = None


@dataclass
class Day:
    con: duckdb.DuckDBPyConnection
    day: date
    policy: Policy
    events: list[dict] = field(default_factory=list)
    openings: list[dict] = field(default_factory=list)
    task_requests: list[dict] = field(default_factory=list)
    closures: dict[str, tuple[str, str]] = field(default_factory=dict)  # task_id → (how, key)
    batches: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    # looked up once a day, not once a row (a query per visit or publication result was a third of the ledger step);
    # the ledger writes only at the end of the day, so the warehouse holds the day's start state throughout
    tasks: dict[str, dict] = field(default_factory=dict)  # task_id → visit_task_status row
    exclusions: dict[str, list[str]] = field(default_factory=dict)  # household_id → "CODE：explanation"
    published: dict[tuple[str, str], dict] = field(default_factory=dict)  # (batch_id, household_id) → member row

    # ---- helpers ------------------------------------------------------------------------------------------------
    @property
    def wf(self):
        return self.policy.workflow

    def wd(self, n: int) -> date:
        return add_working_days(self.day, n, self.wf)

    def issue(
        self,
        kind: str,
        text: str,
        *,
        household_id=None,
        case: Case | None = None,
        feed=None,
        file=None,
        row=None,
        ref=None,
        county_code=None,
    ) -> None:
        self.issues.append(
            {
                "processed_date": self.day,
                "county_code": county_code
                or (case.county_code if case else self.households.get(household_id, {}).get("county_code")),
                "household_id": household_id or (case.household_id if case else None),
                "case_id": case.case_id if case else None,
                "feed": feed,
                "file": file,
                "row": row,
                "ref": ref,
                "kind": kind,
                "description_zh": text,
            }
        )

    def move(
        self,
        case: Case,
        new_state: str,
        event: str,
        *,
        source=None,
        src: dict | None = None,
        unit=None,
        risk_types=(),
        rule_codes=(),
        severity=None,
        task_id=None,
        batch_id=None,
        effective=None,
        evidence_zh=None,
        source_ref=None,
    ) -> None:
        if not S.is_legal(case.state, new_state, event):
            raise AssertionError(f"illegal transition {case.state} → {new_state} by {event} ({case.case_id})")
        old = case.state
        for t in risk_types:
            if t not in case.risk_types:
                case.risk_types.append(t)
        case.rule_codes |= set(rule_codes)
        if source in SOURCES or source == "花名册":
            case.sources.add(source)
        if SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(case.severity, 0):
            case.severity = severity
        if new_state != old:
            case.state, case.state_since = new_state, self.day
            if case.open_task and new_state not in TASK_STATES:
                self.close_task(case, f"案件转入{new_state}")
            if new_state in TASK_STATES:
                if case.open_task:
                    self.close_task(case, f"案件转入{new_state}")
                task_id = self.request_task(case, TASK_STATES[new_state])
            if new_state == S.消除待排查:
                case.elimination_started = self.day
            if new_state in S.CLOSED_STATES:  # closed: the household may get a new case (after the cool-down)
                if self.active.get(case.household_id) is case:
                    del self.active[case.household_id]
                if new_state == S.不予纳入:
                    self.declined[case.household_id] = case
        elif event == "重新派发排查任务":
            self.close_task(case, "需再次走访")
            task_id = self.request_task(case, TASK_STATES[case.state])
        case.due_date = self.due(case)
        case.seq += 1
        src = src or {}
        self.events.append(
            {
                "case_id": case.case_id,
                "event_seq": case.seq,
                "household_id": case.household_id,
                "event_date": self.day,
                "processed_date": self.day,
                "event": event,
                "source": source,
                "source_feed": src.get("feed"),
                "source_file": src.get("file"),
                "source_row": src.get("row"),
                "rule_codes": ";".join(sorted(rule_codes)),
                "unit": unit,
                "old_state": old,
                "new_state": case.state,
                "risk_types": ";".join(risk_types),
                "severity": severity,
                "green_channel": case.green,
                "task_id": task_id,
                "batch_id": batch_id,
                "effective_date": effective,
                "due_date": case.due_date,
                "source_ref": source_ref,
                "evidence_zh": evidence_zh,
            }
        )

    def due(self, case: Case) -> date | None:
        wf = self.wf
        if case.state in (S.待排查, S.消除待排查, S.比对异常):
            n = wf.review_anomaly_working_days if case.state == S.比对异常 else wf.pending_visit_working_days
            return add_working_days(self.day, n, wf)
        if case.state == S.待确认:
            return add_working_days(case.opened_date, wf.total_working_days, wf)
        if case.state == S.消除待确认 and case.elimination_started:
            return add_working_days(case.elimination_started, wf.total_working_days, wf)
        return None

    def request_task(self, case: Case, purpose: str) -> str:
        key = f"#REQ{len(self.task_requests)}"
        verify = {
            "排查": "入户核实："
            + ("、".join(case.risk_types) or "家庭情况")
            + "；收入、合规自付支出、三保障及饮水安全",
            "复核": "复核比对异常：" + getattr(case, "_anomaly", "比对发现的问题"),
            "风险消除": "核实收入是否持续稳定高于监测线、三保障及饮水安全是否有保障，是否可以风险消除",
        }[purpose]
        self.task_requests.append(
            {
                "key": key,
                "case_id": case.case_id,
                "household_id": case.household_id,
                "county_code": case.county_code,
                "township": case.township,
                "village_code": case.village_code,
                "purpose": purpose,
                "what_to_verify_zh": verify,
            }
        )
        case.open_task = key
        return key

    def close_task(self, case: Case, how: str) -> None:
        if case.open_task:
            self.closures[case.open_task] = (how, case.case_id)
            case.open_task = None


def _table_exists(con, name: str) -> bool:
    return (
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0] > 0
    )


def _rows(con, sql: str, params: list) -> list[dict]:
    return con.sql(sql, params=params).pl().to_dicts()


def map_reason(policy: Policy, text: str | None) -> tuple[list[str], list[str]]:
    """Free text → (standard risk types, words that mapped to nothing). Unmapped words make the type 其他."""
    types, unmapped = [], []
    for part in [p for p in _SPLIT.split(text or "") if p]:
        if part in policy.risk_types:
            found = (part,)
        else:
            found = policy.map_risk_text(part)
        if not found:
            unmapped.append(part)
            found = ("其他",)
        types += [t for t in found if t not in types]
    return types, unmapped


# ---------------------------------------------------------------------------------------------------------------
def process_day(con: duckdb.DuckDBPyConnection, day: date, policy: Policy) -> tuple[int, int, int]:
    """Process one delivery date; returns (events, cases opened, issues). The caller holds the transaction."""
    st = Day(con, day, policy)
    st.households = {
        r["household_id"]: r
        for r in _rows(
            con,
            """
        SELECT household_id, county_code, township, village_code, monitored, risk_identified_date,
               housing_grade, renovation_status, dropouts, uninsured_members, roster_water_unsafe,
               children_missing_school
        FROM household_indicators WHERE as_of_date = ?""",
            [day],
        )
    }
    feeds = {kind: _feed_rows(st, kind) for kind in ("visit", "publication", "decision")}
    _prefetch(st, feeds["visit"], feeds["publication"])
    cases = _load_cases(con, day, policy.workflow.declined_cooldown_days, [m["case_id"] for m in st.published.values()])
    active = {c.household_id: c for c in cases.values() if c.state in S.ACTIVE_STATES}
    declined = {}
    for c in cases.values():
        if c.state == S.不予纳入 and (day - c.state_since).days < policy.workflow.declined_cooldown_days:
            prev = declined.get(c.household_id)
            if prev is None or c.state_since > prev.state_since:
                declined[c.household_id] = c
    st.active, st.declined, st.all_cases = active, declined, cases
    # cases opened today per household (a second one the same day gets "-2"): kept as a count, not by scanning
    # every case at each opening, which made the first day of 1,000,000 households quadratic
    st.opened_today = Counter(c.household_id for c in cases.values() if c.opened_date == day)

    first_run = con.execute("SELECT count(*) FROM case_events").fetchall()[0][0] == 0
    if first_run:
        _import_roster(st)
    _applications(st)
    for kind, handler in (("visit", _visit), ("publication", _publication), ("decision", _decision)):
        for row in feeds[kind]:
            handler(st, row)
    _warnings(st)
    _eliminations(st)
    _publish(st)
    _write(st)
    return len(st.events), len(st.openings), len(st.issues)


def _load_cases(con, day: date, cooldown_days: int, published: list[str]) -> dict[str, Case]:
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


# ---- opening -------------------------------------------------------------------------------------------------------
def _open(
    st: Day,
    household_id: str,
    source: str,
    *,
    src=None,
    risk_types=(),
    rule_codes=(),
    severity=None,
    effective=None,
    evidence_zh=None,
    source_ref=None,
) -> Case | None:
    """Open a case (or attach the evidence to the household's active case). None when the cool-down holds it back."""
    case = st.active.get(household_id)
    if case is not None:
        new_types = [t for t in risk_types if t not in case.risk_types]
        new_rules = set(rule_codes) - case.rule_codes
        if new_types or new_rules or source not in case.sources:
            st.move(
                case,
                case.state,
                "新证据",
                source=source,
                src=src,
                risk_types=risk_types,
                rule_codes=rule_codes,
                severity=severity,
                effective=effective,
                evidence_zh=evidence_zh,
                source_ref=source_ref,
            )
        return case
    info = st.households.get(household_id)
    if info is None:
        return None
    prev = st.declined.get(household_id)
    if prev is not None:
        different = any(t not in prev.risk_types for t in risk_types)
        higher = SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(prev.severity, 0)
        if not (different or higher):
            return None
    n = st.opened_today[household_id]
    st.opened_today[household_id] += 1
    case_id = f"AJ-{household_id}-{st.day:%Y%m%d}" + (f"-{n + 1}" if n else "")
    case = Case(
        case_id, household_id, info["county_code"], info["township"], info["village_code"], st.day, S.START, st.day, 0
    )
    st.all_cases[case_id] = case
    st.active[household_id] = case
    st.openings.append(
        {
            "case_id": case_id,
            "household_id": household_id,
            "county_code": case.county_code,
            "township": case.township,
            "village_code": case.village_code,
            "opened_date": st.day,
            "opening_source": source,
            "processed_date": st.day,
        }
    )
    why = "" if prev is None else f"（{prev.state_since} 不予纳入后冷却期内，因新的风险类型或更高严重程度重新立案）"
    st.move(
        case,
        S.待排查,
        "立案",
        source=source,
        src=src,
        risk_types=risk_types,
        rule_codes=rule_codes,
        severity=severity,
        effective=effective,
        evidence_zh=(evidence_zh or "") + why,
        source_ref=source_ref,
    )
    return case


def _import_roster(st: Day) -> None:
    for hid in sorted(h for h, r in st.households.items() if r["monitored"]):
        info = st.households[hid]
        case_id = f"AJ-{hid}-{st.day:%Y%m%d}"
        case = Case(
            case_id, hid, info["county_code"], info["township"], info["village_code"], st.day, S.START, st.day, 0
        )
        st.opened_today[hid] += 1
        st.all_cases[case_id] = case
        st.active[hid] = case
        st.openings.append(
            {
                "case_id": case_id,
                "household_id": hid,
                "county_code": case.county_code,
                "township": case.township,
                "village_code": case.village_code,
                "opened_date": st.day,
                "opening_source": "花名册",
                "processed_date": st.day,
            }
        )
        st.move(
            case,
            S.已纳入,
            "花名册导入",
            source="花名册",
            src={"feed": "roster"},
            effective=info["risk_identified_date"] or st.day,
            evidence_zh=f"花名册记录为监测对象，风险识别时间 {info['risk_identified_date'] or '未填'}",
        )


def _applications(st: Day) -> None:
    rows = _rows(
        st.con,
        """
        WITH pending AS (
            SELECT DISTINCT ref FROM workflow_issues WHERE kind = '申请未匹配农户' AND processed_date < ?
            EXCEPT SELECT source_ref FROM case_events WHERE source_feed = 'applications'),
        apps AS (
            SELECT * FROM applications_asof(?::DATE) a
            WHERE a._delivery_date = ? OR a.application_id IN (SELECT ref FROM pending)),
        persons AS (SELECT id_number, any_value(household_id) AS household_id FROM roster_asof(?::DATE) GROUP BY 1)
        SELECT a.application_id, a.application_date, a.channel, a.applicant_name, a.reason, a.details, a._file,
               a._row, a.county_code, a._delivery_date, p.household_id
        FROM apps a LEFT JOIN persons p ON p.id_number = a.head_id_number
        ORDER BY a.application_date, a._delivery_date, a._file, a._row, a.application_id""",
        [st.day, st.day, st.day, st.day],
    )
    for r in rows:
        src = {"feed": "applications", "file": r["_file"], "row": r["_row"]}
        if r["household_id"] is None or r["household_id"] not in st.households:
            st.issue(
                "申请未匹配农户",
                f"农户申请 {r['application_id']}（{r['application_date']}，{r['channel'] or '渠道未填'}）"
                "的户主证件号码在花名册中找不到，申请保留待处理，请乡镇核实证件号码",
                county_code=r["county_code"],
                feed="applications",
                file=r["_file"],
                row=r["_row"],
                ref=r["application_id"],
            )
            continue
        types, unmapped = map_reason(st.policy, r["reason"])
        text = f"农户申请 {r['application_id']}（{r['application_date']}，{r['channel'] or ''}）：{r['reason']}"
        if unmapped:
            text += f"；未能归类的申请理由（记为其他）：{'、'.join(unmapped)}"
        case = _open(
            st,
            r["household_id"],
            "农户申请",
            src=src,
            risk_types=types or ["其他"],
            effective=r["application_date"],
            evidence_zh=text,
            source_ref=r["application_id"],
        )
        if case is None:
            st.issue(
                "冷却期内未重新立案",
                f"农户申请 {r['application_id']}：该户不予纳入未满 "
                f"{st.wf.declined_cooldown_days} 天，且无新的风险类型或更高严重程度，未重新立案（申请已记录）",
                household_id=r["household_id"],
                feed="applications",
                file=r["_file"],
                row=r["_row"],
                ref=r["application_id"],
            )


def _feed_rows(st: Day, kind: str) -> list[dict]:
    sql = {
        "visit": "SELECT * FROM visit_results WHERE _delivery_date = ? ORDER BY visit_date, household_id, _file, _row",
        "publication": "SELECT * FROM publication_results WHERE _delivery_date = ? ORDER BY end_date, batch_id, household_id, _file, _row",
        "decision": "SELECT * FROM county_decisions WHERE _delivery_date = ? ORDER BY decision_date, household_id, decision_type, _file, _row",
    }[kind]
    return _rows(st.con, sql, [st.day])


def _prefetch(st: Day, visits: list[dict], publications: list[dict]) -> None:
    """The day's lookups in three queries: the tasks the visit results name, the exclusion hits of the day, the
    publication members the results name."""
    con = st.con
    task_ids = sorted({(r["task_id"] or "").strip() for r in visits} - {""})
    if task_ids:
        st.tasks = {
            r["task_id"]: r
            for r in _rows(con, "SELECT * FROM visit_task_status WHERE list_contains(?, task_id)", [task_ids])
        }
    for hid, code, text in con.execute(
        """SELECT household_id, check_code, explanation_zh FROM exclusion_hits
                                          WHERE as_of_date = ? ORDER BY household_id, check_code, explanation_zh""",
        [st.day],
    ).fetchall():
        st.exclusions.setdefault(hid, []).append(f"{code}：{text}")
    pairs = {(r["batch_id"], r["household_id"]) for r in publications}
    if pairs:
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
        st.published = {(r["batch_id"], r["household_id"]): r for r in found}


def _src(feed: str, r: dict) -> dict:
    return {"feed": feed, "file": r["_file"], "row": r["_row"]}


# ---- moving ----------------------------------------------------------------------------------------------------------
def _visit(st: Day, r: dict) -> None:
    hid, task_id, conclusion = r["household_id"], (r["task_id"] or "").strip(), r["conclusion"]
    src, where = _src("visit_results", r), dict(feed="visit_results", file=r["_file"], row=r["_row"])
    if r["visit_date"] and r["visit_date"] > st.day:
        st.issue(
            "日期晚于交付日期", f"走访结果的排查日期 {r['visit_date']} 晚于交付日期，未处理", household_id=hid, **where
        )
        return
    case = st.active.get(hid)
    if task_id:
        task = st.tasks.get(task_id)
        if task is None:
            st.issue(
                "任务编号不存在",
                f"走访结果的任务编号 {task_id} 不是本系统派发的任务，未处理",
                household_id=hid,
                ref=task_id,
                **where,
            )
            return
        if task["household_id"] != hid:
            st.issue(
                "任务与户不符",
                f"任务 {task_id} 派给户 {task['household_id']}，走访结果却是户 {hid}，未处理",
                household_id=hid,
                ref=task_id,
                **where,
            )
            return
        if task["status"] != "待走访" or case is None or case.case_id != task["case_id"] or case.open_task != task_id:
            st.issue(
                "任务已关闭",
                f"任务 {task_id} 已关闭（{task['closed_how'] or '案件已变化'}），走访结果未处理",
                household_id=hid,
                case=case,
                ref=task_id,
                **where,
            )
            return
    types, unmapped = map_reason(st.policy, r["risk_types"])
    evidence = (
        f"走访 {r['visit_date']}（{r['visitor']}）：{conclusion}；核实人均纯收入 {r['verified_income_per_capita']} 元；"
        f"义务教育{'有' if r['education_secured'] else '无'}保障、基本医疗{'有' if r['medical_secured'] else '无'}保障、"
        f"住房安全{'有' if r['housing_secured'] else '无'}保障、饮水安全{'有' if r['water_secured'] else '无'}保障"
        + (f"；{r['details']}" if r["details"] else "")
    )
    kw = dict(
        src=src,
        unit=r["visitor"],
        risk_types=[t for t in types if t != "其他" or unmapped],
        effective=r["visit_date"],
        evidence_zh=evidence,
        source_ref=task_id or None,
    )
    if not task_id:
        if case is None or case.state not in (S.待排查, S.比对异常, S.消除待排查):
            if conclusion != "建议纳入":
                if case is not None and case.state in S.INCLUSION_OPEN:
                    st.issue(
                        "走访与案件状态不符",
                        f"户 {hid} 的案件处于{case.state}，主动走访结论“{conclusion}”未改变案件状态",
                        case=case,
                        **where,
                    )
                return
            case = _open(
                st,
                hid,
                "干部排查",
                src=src,
                risk_types=types or ["其他"],
                effective=r["visit_date"],
                evidence_zh="干部主动走访：" + evidence,
            )
            if case is None:
                if hid in st.households:
                    st.issue(
                        "冷却期内未重新立案",
                        f"户 {hid} 不予纳入未满 {st.wf.declined_cooldown_days} 天，主动走访无新的风险类型，未重新立案",
                        household_id=hid,
                        **where,
                    )
                else:
                    st.issue("户编号不存在", f"走访结果的户编号 {hid} 不在花名册中，未处理", household_id=hid, **where)
                return
            if case.state != S.待排查:
                return  # evidence joined an open case in a later stage
    if case.state == S.待排查:
        st.close_task(case, "已反馈")
        if conclusion == "建议纳入":
            st.move(case, S.待比对, "走访建议纳入", source="走访结果", **kw)
            _compare(st, case, r)
        elif conclusion == "不建议纳入":
            st.move(case, S.不予纳入, "走访不建议纳入", source="走访结果", **kw)
        elif conclusion in ("需进一步核实", "无法入户"):
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
        else:
            st.issue(
                "走访结论与案件状态不符",
                f"案件处于待排查，走访结论“{conclusion}”不适用，已关闭任务并重新派发",
                case=case,
                **where,
            )
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
    elif case.state == S.比对异常:
        st.close_task(case, "已反馈")
        if conclusion == "建议纳入":
            target = S.待确认 if case.green or case.supp_pub == "passed" else S.待公示
            st.move(case, target, "复核通过", source="走访结果", **kw)
        elif conclusion in ("不建议纳入", "建议风险消除"):
            st.move(case, S.不予纳入, "复核不予纳入", source="走访结果", **kw)
        else:
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
    elif case.state == S.消除待排查:
        st.close_task(case, "已反馈")
        if conclusion == "建议风险消除":
            st.move(case, S.消除待公示, "走访建议风险消除", source="走访结果", **kw)
        elif conclusion in ("需进一步核实", "无法入户"):
            st.move(case, case.state, "重新派发排查任务", source="走访结果", **kw)
        else:
            st.move(case, S.已纳入, "走访风险未消除", source="走访结果", **kw)


def _compare(st: Day, case: Case, visit: dict) -> None:
    """比对: exclusion hits of the day, and the visit against department data. Then 待公示 / 比对异常 / 绿色通道."""
    found = _comparison_findings(st, case.household_id, visit)
    green = any(t in st.wf.green_channel_risk_types for t in case.risk_types)
    if green:
        case.green = True
        st.move(
            case,
            S.待确认,
            "绿色通道",
            source="自动比对",
            evidence_zh=f"风险类型含{'、'.join(t for t in case.risk_types if t in st.wf.green_channel_risk_types)}，"
            "走访建议纳入后直接进入待确认（先帮扶，后补充比对、补充公示）",
        )
        case.supp_check_done = True
        if found:
            case._anomaly = "；".join(found)
            st.move(case, S.比对异常, "补充比对异常", source="自动比对", evidence_zh="补充比对：" + "；".join(found))
        else:
            st.move(case, case.state, "补充比对通过", source="自动比对", evidence_zh="补充比对未发现排除情形或矛盾")
            case.supp_pub = "pending"
        return
    if found:
        case._anomaly = "；".join(found)
        st.move(case, S.比对异常, "比对异常", source="自动比对", evidence_zh="；".join(found))
    else:
        st.move(case, S.待公示, "比对通过", source="自动比对", evidence_zh="未发现排除情形，走访与部门数据一致")


def _comparison_findings(st: Day, household_id: str, visit: dict | None) -> list[str]:
    found = list(st.exclusions.get(household_id, ()))
    info = st.households.get(household_id) or {}
    if visit:
        grades = st.policy.rule("HOU-UNSAFE").value("grades")
        if (
            visit["housing_secured"]
            and info.get("housing_grade") in grades
            and info.get("renovation_status") != "已竣工"
        ):
            found.append(
                f"走访称住房安全有保障，但住建部门鉴定为{info['housing_grade']}级危房、改造状态"
                f"{info.get('renovation_status') or '未填'}（住建局）"
            )
        if visit["education_secured"] and (info.get("dropouts") or 0) > 0:
            found.append(f"走访称义务教育有保障，但教育部门有 {info['dropouts']} 名适龄成员辍学或休学（教育局）")
        if visit["medical_secured"] and (info.get("uninsured_members") or 0) > 0:
            found.append(f"走访称基本医疗有保障，但医保部门有 {info['uninsured_members']} 名成员未正常参保（医保局）")
        if visit["water_secured"] and info.get("roster_water_unsafe"):
            found.append("走访称饮水安全有保障，但花名册记录未解决安全饮用水（水利局）")
    return found


def _publication(st: Day, r: dict) -> None:
    hid, batch_id = r["household_id"], r["batch_id"]
    where = dict(feed="publication_results", file=r["_file"], row=r["_row"], ref=batch_id)
    m = st.published.get((batch_id, hid))
    if m is None:
        st.issue(
            "公示批次不存在",
            f"公示结果的批次 {batch_id} 中没有户 {hid}（本系统未发布），未处理",
            household_id=hid,
            **where,
        )
        return
    case = st.all_cases.get(m["case_id"])
    if m["passed"] is not None or any(o["batch_id"] == batch_id and o["household_id"] == hid for o in st.outcomes):
        st.issue("公示结果重复", f"批次 {batch_id} 户 {hid} 的公示结果已处理，此条未处理", case=case, **where)
        return
    shown = (r["end_date"] - r["start_date"]).days + 1 if r["start_date"] and r["end_date"] else 0
    if shown < st.wf.publication_min_days or st.day < m["end_date"] or r["end_date"] < m["end_date"]:
        st.issue(
            "公示期不足",
            f"批次 {batch_id} 公示 {r['start_date']} 至 {r['end_date']}（{shown} 天），"
            f"未满 {st.wf.publication_min_days} 天或早于批次结束日期 {m['end_date']}，结果未处理，请公示期满后报送",
            case=case,
            **where,
        )
        return
    if r["objection"] and not r["objection_conclusion"]:
        st.issue("异议未核实", f"批次 {batch_id} 户 {hid} 有异议但未填写异议核实结论，结果未处理", case=case, **where)
        return
    upheld = bool(r["objection"]) and r["objection_conclusion"] == "异议成立"
    passed = r["review_result"] == "同意" and not upheld
    text = f"公示 {r['start_date']} 至 {r['end_date']}（{shown} 天）；民主评议{r['review_result']}；" + (
        f"有异议，{r['objection_conclusion']}" if r["objection"] else "无异议"
    )
    kw = dict(
        source="公示结果",
        src=_src("publication_results", r),
        unit=f"村委会 {m['village_code']}",
        batch_id=batch_id,
        effective=r["end_date"],
        evidence_zh=text,
        source_ref=batch_id,
    )
    expected = {"纳入": (S.公示中,), "风险消除": (S.消除公示中,), "补充公示": (S.待确认, S.已纳入)}[m["purpose"]]
    if case is None or case.state not in expected:
        st.issue(
            "公示结果与案件状态不符",
            f"批次 {batch_id} 户 {hid} 的案件当前为{case.state if case else '无'}，结果未处理",
            case=case,
            **where,
        )
        return
    st.outcomes.append(
        {
            "batch_id": batch_id,
            "household_id": hid,
            "passed": passed,
            "result_date": r["end_date"],
            "processed_date": st.day,
        }
    )
    if m["purpose"] == "纳入":
        st.move(case, S.待确认 if passed else S.不予纳入, "公示通过" if passed else "公示未通过", **kw)
    elif m["purpose"] == "风险消除":
        st.move(case, S.消除待确认 if passed else S.已纳入, "公示通过" if passed else "公示未通过", **kw)
    else:
        case.supp_pub = "passed"
        if passed:
            st.move(case, case.state, "补充公示通过", **kw)
        else:
            case._anomaly = "补充公示" + ("异议成立" if upheld else "民主评议不同意")
            st.move(case, S.比对异常, "补充公示未通过", **kw)


def _decision(st: Day, r: dict) -> None:
    hid, kind = r["household_id"], r["decision_type"]
    where = dict(feed="county_decisions", file=r["_file"], row=r["_row"])
    case = st.active.get(hid)
    allowed = {
        "确认纳入": {S.待确认: (S.已纳入, "确认纳入")},
        "不予纳入": {S.待确认: (S.不予纳入, "县级不予纳入"), S.比对异常: (S.不予纳入, "县级不予纳入")},
        "退回重新核实": {S.待确认: (S.待排查, "退回重新核实"), S.消除待确认: (S.已纳入, "退回重新核实")},
        "确认风险消除": {S.消除待确认: (S.风险消除, "确认风险消除")},
    }[kind]
    if case is None or case.state not in allowed:
        st.issue(
            "决定与案件状态不符",
            f"{r['decision_unit']} {r['decision_date']} 对户 {hid} 作出“{kind}”，"
            f"但该户{'没有进行中的案件' if case is None else '案件处于' + case.state}，决定未处理",
            household_id=hid,
            case=case,
            **where,
        )
        return
    types, _ = map_reason(st.policy, r["risk_types"])
    new_state, event = allowed[case.state]
    st.move(
        case,
        new_state,
        event,
        source="县级决定",
        src=_src("county_decisions", r),
        unit=r["decision_unit"],
        risk_types=types,
        effective=r["decision_date"],
        evidence_zh=f"{r['decision_unit']} {r['decision_date']} {kind}"
        + (f"（{r['monitoring_category']}）" if r["monitoring_category"] else "")
        + (f"：{r['details']}" if r["details"] else ""),
    )


def _warnings(st: Day) -> None:
    con, day = st.con, st.day
    use_scores = (
        _table_exists(con, "household_scores")
        and con.execute("SELECT count(*) FROM household_scores WHERE as_of_date = ?", [day]).fetchall()[0][0] > 0
    )
    if use_scores:
        sql = """SELECT household_id, village_code, coalesce(rule_codes, '') AS rule_codes, risk_types, severity_max,
                        probability, monitored, coalesce(model_warning, false) AS model_warning, explanation_zh
                 FROM household_scores WHERE as_of_date = ? AND ((coalesce(rule_codes, '') NOT IN ('', 'MODEL')) OR model_warning)"""
    else:  # no scoring stage yet: department warnings straight from the rules
        sql = """SELECT household_id, any_value(village_code) AS village_code, string_agg(DISTINCT rule_code, ';' ORDER BY rule_code) AS rule_codes,
                        string_agg(DISTINCT risk_type, ';' ORDER BY risk_type) AS risk_types,
                        CASE WHEN bool_or(severity = '高') THEN '高' ELSE '中' END AS severity_max, NULL::DOUBLE AS probability,
                        bool_or(monitored) AS monitored, false AS model_warning,
                        string_agg(explanation_zh, '；' ORDER BY rule_code) AS explanation_zh
                 FROM rule_hits WHERE as_of_date = ? GROUP BY household_id"""
    rows = _rows(con, sql, [day])
    rules = sorted((r for r in rows if r["rule_codes"] not in ("", "MODEL")), key=lambda r: r["household_id"])
    for r in rules:
        hid = r["household_id"]
        active = st.active.get(hid)
        if r["monitored"] and active is None:
            continue  # monitored by the roster but unknown to the ledger (only possible after the first run): skip
        codes = [c for c in r["rule_codes"].split(";") if c and c != "MODEL"]
        types = [t for t in (r["risk_types"] or "").split(";") if t]
        _open(
            st,
            hid,
            "部门预警",
            src={"feed": "rule_hits"},
            risk_types=types,
            rule_codes=codes,
            severity=r["severity_max"],
            evidence_zh=r["explanation_zh"],
        )
    capacity = st.policy.risk_levels.model_capacity_per_village_per_week
    week_start = day - timedelta(days=day.weekday())
    used = dict(
        con.execute(
            """SELECT village_code, count(*) FROM case_openings WHERE opening_source = '模型预警'
                               AND opened_date BETWEEN ? AND ? GROUP BY 1""",
            [week_start, day],
        ).fetchall()
    )
    model = sorted(
        (r for r in rows if r["model_warning"] and r["rule_codes"] in ("", "MODEL")),
        key=lambda r: (r["village_code"] or "", -(r["probability"] or 0), r["household_id"]),
    )
    for r in model:
        hid = r["household_id"]
        if hid in st.active:
            _open(
                st,
                hid,
                "模型预警",
                src={"feed": "household_scores"},
                rule_codes=["MODEL"],
                evidence_zh=f"模型预警，概率 {r['probability']:.4f}" if r["probability"] is not None else "模型预警",
            )
            continue
        if r["monitored"] or used.get(r["village_code"], 0) >= capacity:
            continue
        case = _open(
            st,
            hid,
            "模型预警",
            src={"feed": "household_scores"},
            rule_codes=["MODEL"],
            risk_types=[t for t in (r["risk_types"] or "").split(";") if t],
            evidence_zh=(r["explanation_zh"] or "模型预警")
            + (f"（概率 {r['probability']:.4f}）" if r["probability"] is not None else ""),
        )
        if case is not None and case.opened_date == day and case.seq == 1:
            used[r["village_code"]] = used.get(r["village_code"], 0) + 1


def _eliminations(st: Day) -> None:
    monitored = {c.household_id: c for c in st.active.values() if c.state == S.已纳入}
    for r in compute_candidates(st.con, st.day, st.policy, monitored):
        case = monitored.get(r["household_id"])
        if case is not None and case.state == S.已纳入:
            st.move(case, S.消除待排查, "风险消除候选", source="系统", evidence_zh=r["evidence_zh"])


def _publish(st: Day) -> None:
    min_days = st.wf.publication_min_days
    start = st.day + timedelta(days=1)
    end = start + timedelta(days=min_days - 1)
    waiting = [
        c
        for c in st.active.values()
        if c.state in (S.待公示, S.消除待公示)
        or (c.green and c.supp_pub == "pending" and c.state in (S.待确认, S.已纳入))
    ]
    by_village: dict[str, list[Case]] = {}
    for c in sorted(waiting, key=lambda c: (c.village_code or "", c.household_id)):
        by_village.setdefault(c.village_code or "", []).append(c)
    for village, members in sorted(by_village.items()):
        batch_id = f"GS-{village}-{st.day:%Y%m%d}"
        first = members[0]
        st.batches.append(
            {
                "batch_id": batch_id,
                "county_code": first.county_code,
                "township": first.township,
                "village_code": village,
                "start_date": start,
                "end_date": end,
                "processed_date": st.day,
            }
        )
        for c in members:
            text = f"列入公示批次 {batch_id}，公示期 {start} 至 {end}（{min_days} 天）"
            if c.state == S.待公示:
                purpose = "纳入"
                st.move(
                    c, S.公示中, "发布公示", source="系统", batch_id=batch_id, evidence_zh=text, source_ref=batch_id
                )
            elif c.state == S.消除待公示:
                purpose = "风险消除"
                st.move(
                    c, S.消除公示中, "发布公示", source="系统", batch_id=batch_id, evidence_zh=text, source_ref=batch_id
                )
            else:
                purpose = "补充公示"
                c.supp_pub = "published"
                st.move(
                    c,
                    c.state,
                    "补充公示发布",
                    source="系统",
                    batch_id=batch_id,
                    evidence_zh="补充公示：" + text,
                    source_ref=batch_id,
                )
            st.members.append(
                {
                    "batch_id": batch_id,
                    "case_id": c.case_id,
                    "household_id": c.household_id,
                    "purpose": purpose,
                    "processed_date": st.day,
                }
            )


# ---- writing -------------------------------------------------------------------------------------------------------
def _insert(con, table: str, rows: list[dict], schema: dict | None = None) -> None:
    if not rows:
        return
    frame = pl.DataFrame(rows, infer_schema_length=None, schema_overrides=schema)
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    for c in cols:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(c))
    with registered(con, "wf_rows", frame.select(cols)):
        con.execute(f"INSERT INTO {table} SELECT * FROM wf_rows")


def _write(st: Day) -> None:
    con, day = st.con, st.day
    # task numbers: per county and issuing day, ordered by village, household, case, purpose
    requests = sorted(
        st.task_requests,
        key=lambda t: (t["county_code"] or "", t["village_code"] or "", t["household_id"], t["case_id"], t["key"]),
    )
    closed_keys = {k for k in st.closures if k.startswith("#REQ")}
    numbers: dict[str, str] = {}
    counters: dict[str, int] = {}
    tasks = []
    for t in requests:
        county = t["county_code"] or "000000"
        counters[county] = counters.get(county, 0) + 1
        task_id = f"RW-{county}-{day:%Y%m%d}-{counters[county]:04d}"
        numbers[t["key"]] = task_id
        tasks.append(
            {k: v for k, v in t.items() if k != "key"}
            | {
                "task_id": task_id,
                "issued_date": day,
                "due_date": add_working_days(
                    day,
                    st.wf.review_anomaly_working_days if t["purpose"] == "复核" else st.wf.pending_visit_working_days,
                    st.wf,
                ),
                "processed_date": day,
            }
        )
    for e in st.events:
        if e["task_id"] in numbers:
            e["task_id"] = numbers[e["task_id"]]
        if e["source_ref"] in numbers:
            e["source_ref"] = numbers[e["source_ref"]]
    closures = [
        {"task_id": numbers.get(k, k), "closed_date": day, "how": how, "processed_date": day}
        for k, (how, _) in st.closures.items()
    ]
    del closed_keys
    _insert(con, "case_openings", st.openings)
    _insert(
        con,
        "case_events",
        st.events,
        {
            "evidence": pl.Utf8,
            "source_row": pl.Int64,
            "severity": pl.Utf8,
            "task_id": pl.Utf8,
            "batch_id": pl.Utf8,
            "source_ref": pl.Utf8,
            "effective_date": pl.Date,
            "due_date": pl.Date,
            "unit": pl.Utf8,
            "source_file": pl.Utf8,
            "source_feed": pl.Utf8,
            "source": pl.Utf8,
            "evidence_zh": pl.Utf8,
            "rule_codes": pl.Utf8,
            "risk_types": pl.Utf8,
        },
    )
    _insert(con, "visit_tasks", tasks)
    _insert(con, "visit_task_closures", sorted(closures, key=lambda c: c["task_id"]))
    _insert(con, "publication_batches", st.batches)
    _insert(con, "publication_members", st.members)
    _insert(con, "publication_outcomes", st.outcomes)
    _insert(
        con,
        "workflow_issues",
        st.issues,
        {
            "row": pl.Int64,
            "file": pl.Utf8,
            "feed": pl.Utf8,
            "ref": pl.Utf8,
            "case_id": pl.Utf8,
            "household_id": pl.Utf8,
            "county_code": pl.Utf8,
        },
    )
    _daily_status(con, day)


def _daily_status(con, day: date) -> None:
    rebuild_cases(con)
    con.execute(
        """
        INSERT INTO case_status_daily
        SELECT ?::DATE, c.case_id, c.county_code, c.township, c.village_code, c.household_id, c.sources, c.risk_types,
               c.rule_codes, c.state, c.state_since, c.due_date, coalesce(?::DATE > c.due_date, false),
               CASE WHEN ?::DATE > c.due_date THEN datediff('day', c.due_date, ?::DATE) END, c.green_channel,
               c.opened_date, t.task_id, b.batch_id
        FROM cases c
        LEFT JOIN (SELECT case_id, max(task_id) AS task_id FROM visit_task_status WHERE status = '待走访' GROUP BY 1) t USING (case_id)
        LEFT JOIN (SELECT m.case_id, max(m.batch_id) AS batch_id FROM publication_members m
                   LEFT JOIN publication_outcomes o USING (batch_id, household_id) WHERE o.batch_id IS NULL GROUP BY 1) b USING (case_id)
        WHERE c.state NOT IN ('不予纳入', '风险消除', '已纳入') OR c.state_since = ?::DATE
        ORDER BY c.case_id""",
        [day, day, day, day, day],
    )
