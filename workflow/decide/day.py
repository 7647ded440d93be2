"""The state of one day's decisions (``Day``): the cases as they move, every event, task, closure and issue the day
will write, the due dates (working days), and the task numbers given at the end of the day."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from fangfanpin.config.policy import Policy
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days
from fangfanpin.workflow.decide.records import Case, DayInputs, Decisions

SOURCES = ("部门预警", "模型预警", "农户申请", "干部排查")
SEVERITY_RANK = {None: 0, "": 0, "中": 1, "高": 2}
TASK_STATES = {S.待排查: "排查", S.比对异常: "复核", S.消除待排查: "风险消除"}
_SPLIT = re.compile(r"[、,，;；\s]+")


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


def src_of(feed: str, r: dict) -> dict:
    return {"feed": feed, "file": r["_file"], "row": r["_row"]}


@dataclass
class Day:
    """One day's decisions in progress. The ``Case`` objects of ``inputs.cases`` move in place."""

    inputs: DayInputs
    policy: Policy
    active: dict[str, Case]  # household_id → its case in an active state
    declined: dict[str, Case]  # household_id → its newest case declined within the cool-down
    # cases opened today per household (a second one the same day gets "-2"): kept as a count, not by scanning
    # every case at each opening, which made the first day of 1,000,000 households quadratic
    opened_today: Counter
    events: list[dict] = field(default_factory=list)
    openings: list[dict] = field(default_factory=list)
    task_requests: list[dict] = field(default_factory=list)
    closures: dict[str, tuple[str, str]] = field(default_factory=dict)  # task_id → (how, key)
    batches: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls, inputs: DayInputs, policy: Policy) -> Day:
        day, cooldown = inputs.day, policy.workflow.declined_cooldown_days
        cases = inputs.cases
        active = {c.household_id: c for c in cases.values() if c.state in S.ACTIVE_STATES}
        declined = {}
        for c in cases.values():
            if c.state == S.不予纳入 and (day - c.state_since).days < cooldown:
                prev = declined.get(c.household_id)
                if prev is None or c.state_since > prev.state_since:
                    declined[c.household_id] = c
        opened_today = Counter(c.household_id for c in cases.values() if c.opened_date == day)
        return cls(inputs, policy, active, declined, opened_today)

    @property
    def day(self) -> date:
        return self.inputs.day

    @property
    def households(self) -> Mapping[str, dict]:
        return self.inputs.households

    @property
    def all_cases(self) -> dict[str, Case]:
        return self.inputs.cases

    @property
    def wf(self):
        return self.policy.workflow

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
        """An input that does not fit: written to workflow_issues (in Chinese), never applied."""
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
        """Apply one event to ``case`` (it must be in the state table) and record it; tasks follow the new state."""
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
        """The deadline of the case's state, in working days: a visit or review from today, 待确认 from the opening,
        消除待确认 from the start of the elimination; None where the state has none."""
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
        """A visit task for ``case``; its number is given at the end of the day (``finish``)."""
        key = f"#REQ{len(self.task_requests)}"
        verify = {
            "排查": "入户核实："
            + ("、".join(case.risk_types) or "家庭情况")
            + "；收入、合规自付支出、三保障及饮水安全",
            "复核": "复核比对异常：" + (case.anomaly or "比对发现的问题"),
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

    def finish(self) -> Decisions:
        """Number the day's tasks (RW-<county>-<YYYYMMDD>-<NNNN>, per county, by village, household, case, request)
        and put the numbers into the events and closures that named their requests."""
        day, wf = self.day, self.wf
        requests = sorted(
            self.task_requests,
            key=lambda t: (t["county_code"] or "", t["village_code"] or "", t["household_id"], t["case_id"], t["key"]),
        )
        numbers: dict[str, str] = {}
        counters: dict[str, int] = {}
        tasks = []
        for t in requests:
            county = t["county_code"] or "000000"
            counters[county] = counters.get(county, 0) + 1
            task_id = f"RW-{county}-{day:%Y%m%d}-{counters[county]:04d}"
            numbers[t["key"]] = task_id
            n = wf.review_anomaly_working_days if t["purpose"] == "复核" else wf.pending_visit_working_days
            tasks.append(
                {k: v for k, v in t.items() if k != "key"}
                | {
                    "task_id": task_id,
                    "issued_date": day,
                    "due_date": add_working_days(day, n, wf),
                    "processed_date": day,
                }
            )
        for e in self.events:
            if e["task_id"] in numbers:
                e["task_id"] = numbers[e["task_id"]]
            if e["source_ref"] in numbers:
                e["source_ref"] = numbers[e["source_ref"]]
        closures = [
            {"task_id": numbers.get(k, k), "closed_date": day, "how": how, "processed_date": day}
            for k, (how, _) in self.closures.items()
        ]
        return Decisions(
            openings=self.openings,
            events=self.events,
            tasks=tasks,
            closures=sorted(closures, key=lambda c: c["task_id"]),
            batches=self.batches,
            members=self.members,
            outcomes=self.outcomes,
            issues=self.issues,
        )
