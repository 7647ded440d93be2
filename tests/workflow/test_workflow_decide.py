"""The day's decisions on plain data, with no warehouse: inputs built by hand, ``decide_day`` run, its rows checked.

Each kind of event: opening from a warning, an application, a proactive visit and the roster; a visit result and
比对 (passed, and an anomaly with its review task); 绿色通道 with 补充比对 and 补充公示; publication and its results;
county decisions; 风险消除; an overdue task answered late; the cool-down; the model's weekly capacity; and results
that do not fit the case's state, which become issues and move nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days
from fangfanpin.workflow.decide import Case, DayInputs, decide_day

pytestmark = pytest.mark.unit

POLICY = load_policy()
WF = POLICY.workflow
COUNTY, TOWNSHIP, VILLAGE = "150625", "锡尼镇", "150625100201"
FRI = date(2026, 11, 6)  # a Friday: deadlines skip the weekend
H1, H2, H3 = "150625100201000001", "150625100201000002", "150625100201000003"


def household(hid: str, **values) -> dict:
    return {
        "household_id": hid,
        "county_code": COUNTY,
        "township": TOWNSHIP,
        "village_code": VILLAGE,
        "monitored": False,
        "risk_identified_date": None,
        "housing_grade": None,
        "renovation_status": None,
        "dropouts": 0,
        "uninsured_members": 0,
        "roster_water_unsafe": False,
        "children_missing_school": 0,
    } | values


def case(hid: str, state: str, *, since: date, opened: date | None = None, **values) -> Case:
    opened = opened or since
    fields = {"risk_types": ["因病"], "sources": {"部门预警"}, "severity": "中"} | values
    return Case(f"AJ-{hid}-{opened:%Y%m%d}", hid, COUNTY, TOWNSHIP, VILLAGE, opened, state, since, 2, **fields)


def inputs(day: date, cases: list[Case] = (), households: list[str] = (H1, H2, H3), **rows) -> DayInputs:
    return DayInputs(
        day=day,
        households={h: household(h) for h in households},
        cases={c.case_id: c for c in cases},
        **rows,
    )


def warning(hid: str, codes: str = "INC-LOW", types: str = "因病", severity: str = "高", **values) -> dict:
    return {
        "household_id": hid,
        "village_code": VILLAGE,
        "rule_codes": codes,
        "risk_types": types,
        "severity_max": severity,
        "probability": None,
        "monitored": False,
        "model_warning": False,
        "explanation_zh": f"{codes} 测试证据",
    } | values


def visit(hid: str, task_id: str | None, conclusion: str, day: date, **values) -> dict:
    return {
        "task_id": task_id,
        "household_id": hid,
        "visit_date": day,
        "visitor": "驻村工作队 王建国",
        "verified_income_per_capita": 5000.0,
        "education_secured": True,
        "medical_secured": True,
        "housing_secured": False,
        "water_secured": True,
        "risk_types": "",
        "conclusion": conclusion,
        "details": None,
        "_file": f"visit_results_{COUNTY}.csv",
        "_row": 2,
    } | values


def open_task(task_id: str, c: Case) -> dict:
    return {"task_id": task_id, "household_id": c.household_id, "case_id": c.case_id, "status": "待走访"}


def publication(hid: str, batch: str, start: date, end: date, **values) -> dict:
    return {
        "household_id": hid,
        "batch_id": batch,
        "review_result": "同意",
        "start_date": start,
        "end_date": end,
        "objection": False,
        "objection_conclusion": None,
        "_file": f"publication_results_{COUNTY}.csv",
        "_row": 2,
    } | values


def member(c: Case, batch: str, start: date, end: date, purpose: str = "纳入") -> dict:
    return {
        "batch_id": batch,
        "village_code": VILLAGE,
        "start_date": start,
        "end_date": end,
        "household_id": c.household_id,
        "case_id": c.case_id,
        "purpose": purpose,
        "passed": None,
    }


def decision(hid: str, kind: str, day: date) -> dict:
    return {
        "household_id": hid,
        "decision_type": kind,
        "decision_date": day,
        "decision_unit": "杭锦旗乡村振兴局",
        "risk_types": None,
        "monitoring_category": None,
        "details": None,
        "_file": f"county_decisions_{COUNTY}.csv",
        "_row": 2,
    }


def steps(decisions, case_id: str) -> list[tuple[str, str, str]]:
    return [(e["old_state"], e["new_state"], e["event"]) for e in decisions.events if e["case_id"] == case_id]


def test_a_department_warning_opens_a_case_with_a_visit_task_due_in_working_days():
    out = decide_day(inputs(FRI, warnings=[warning(H1)]), POLICY)
    case_id = f"AJ-{H1}-20261106"
    assert steps(out, case_id) == [(S.START, S.待排查, "立案")]
    assert out.openings == [
        {
            "case_id": case_id,
            "household_id": H1,
            "county_code": COUNTY,
            "township": TOWNSHIP,
            "village_code": VILLAGE,
            "opened_date": FRI,
            "opening_source": "部门预警",
            "processed_date": FRI,
        }
    ]
    [task] = out.tasks
    assert task["task_id"] == "RW-150625-20261106-0001" and task["purpose"] == "排查"
    assert task["due_date"] == date(2026, 11, 13) == add_working_days(FRI, WF.pending_visit_working_days, WF)
    assert "因病" in task["what_to_verify_zh"]
    [event] = out.events
    assert event["task_id"] == task["task_id"] and event["due_date"] == task["due_date"]
    assert event["rule_codes"] == "INC-LOW" and event["severity"] == "高" and event["source"] == "部门预警"
    assert out.issues == [] and out.closures == []


def test_the_roster_on_the_first_run_and_an_application_open_cases():
    applied = {
        "application_id": "SQ-1",
        "application_date": FRI,
        "channel": "12317热线",
        "reason": "因病、家里揭不开锅",
        "county_code": COUNTY,
        "household_id": H2,
        "_file": "applications.csv",
        "_row": 2,
    }
    unmatched = applied | {"application_id": "SQ-2", "household_id": None, "_row": 3}
    day = inputs(FRI, first_run=True, applications=[applied, unmatched])
    day.households[H3] |= {"monitored": True, "risk_identified_date": date(2025, 1, 10)}
    out = decide_day(day, POLICY)
    assert steps(out, f"AJ-{H3}-20261106") == [(S.START, S.已纳入, "花名册导入")]
    assert steps(out, f"AJ-{H2}-20261106") == [(S.START, S.待排查, "立案")]
    opened = next(e for e in out.events if e["household_id"] == H2)
    assert opened["risk_types"] == "因病;其他" and "家里揭不开锅" in opened["evidence_zh"]
    assert opened["source_ref"] == "SQ-1" and opened["effective_date"] == FRI
    assert [(i["kind"], i["ref"]) for i in out.issues] == [("申请未匹配农户", "SQ-2")]


def test_a_visit_recommending_inclusion_passes_the_comparison_and_is_published():
    c = case(H1, S.待排查, since=FRI - timedelta(days=3), open_task="RW-OLD")
    out = decide_day(
        inputs(FRI, [c], visits=[visit(H1, "RW-OLD", "建议纳入", FRI)], tasks={"RW-OLD": open_task("RW-OLD", c)}),
        POLICY,
    )
    assert steps(out, c.case_id) == [
        (S.待排查, S.待比对, "走访建议纳入"),
        (S.待比对, S.待公示, "比对通过"),
        (S.待公示, S.公示中, "发布公示"),
    ]
    assert out.closures == [{"task_id": "RW-OLD", "closed_date": FRI, "how": "已反馈", "processed_date": FRI}]
    [batch] = out.batches
    assert batch["batch_id"] == f"GS-{VILLAGE}-20261106" and batch["start_date"] == FRI + timedelta(days=1)
    assert (batch["end_date"] - batch["start_date"]).days + 1 == WF.publication_min_days
    assert [m["purpose"] for m in out.members] == ["纳入"] and out.tasks == []


def test_a_visit_contradicting_department_data_is_a_comparison_anomaly_with_a_review_task():
    c = case(H1, S.待排查, since=FRI - timedelta(days=3), open_task="RW-OLD")
    day = inputs(
        FRI,
        [c],
        visits=[visit(H1, "RW-OLD", "建议纳入", FRI, housing_secured=True)],
        tasks={"RW-OLD": open_task("RW-OLD", c)},
    )
    day.households[H1] |= {"housing_grade": "D", "renovation_status": "未改造"}
    out = decide_day(day, POLICY)
    assert steps(out, c.case_id)[-1] == (S.待比对, S.比对异常, "比对异常")
    assert "D级危房" in out.events[-1]["evidence_zh"]
    [task] = out.tasks
    assert task["purpose"] == "复核" and "D级危房" in task["what_to_verify_zh"]
    assert task["due_date"] == add_working_days(FRI, WF.review_anomaly_working_days, WF)


def test_green_channel_goes_to_pending_confirmation_then_supplementary_checks_and_publication():
    c = case(H2, S.待排查, since=FRI - timedelta(days=1), risk_types=["因意外事故"], open_task="RW-OLD")
    out = decide_day(
        inputs(FRI, [c], visits=[visit(H2, "RW-OLD", "建议纳入", FRI)], tasks={"RW-OLD": open_task("RW-OLD", c)}),
        POLICY,
    )
    assert steps(out, c.case_id) == [
        (S.待排查, S.待比对, "走访建议纳入"),
        (S.待比对, S.待确认, "绿色通道"),
        (S.待确认, S.待确认, "补充比对通过"),
        (S.待确认, S.待确认, "补充公示发布"),
    ]
    assert all(e["green_channel"] for e in out.events[1:])
    assert out.events[1]["due_date"] == add_working_days(c.opened_date, WF.total_working_days, WF)
    assert [m["purpose"] for m in out.members] == ["补充公示"] and c.supp_pub == "published"


def test_publication_results_move_cases_and_an_upheld_objection_declines():
    start, end = FRI - timedelta(days=6), FRI - timedelta(days=2)
    passed, objected = case(H1, S.公示中, since=start - timedelta(days=1)), case(H2, S.公示中, since=start)
    batch = f"GS-{VILLAGE}-20261030"
    out = decide_day(
        inputs(
            FRI,
            [passed, objected],
            publications=[
                publication(H1, batch, start, end),
                publication(H2, batch, start, end, objection=True, objection_conclusion="异议成立"),
            ],
            published={(batch, c.household_id): member(c, batch, start, end) for c in (passed, objected)},
        ),
        POLICY,
    )
    assert steps(out, passed.case_id) == [(S.公示中, S.待确认, "公示通过")]
    assert steps(out, objected.case_id) == [(S.公示中, S.不予纳入, "公示未通过")]
    assert [(o["household_id"], o["passed"]) for o in out.outcomes] == [(H1, True), (H2, False)]


def test_county_decisions_confirm_inclusion_and_risk_elimination():
    pending, eliminating = case(H1, S.待确认, since=FRI - timedelta(days=2)), case(H2, S.消除待确认, since=FRI)
    out = decide_day(
        inputs(
            FRI, [pending, eliminating], decisions=[decision(H1, "确认纳入", FRI), decision(H2, "确认风险消除", FRI)]
        ),
        POLICY,
    )
    assert steps(out, pending.case_id) == [(S.待确认, S.已纳入, "确认纳入")]
    assert steps(out, eliminating.case_id) == [(S.消除待确认, S.风险消除, "确认风险消除")]
    assert out.events[1]["due_date"] is None


def test_an_elimination_candidate_whose_case_is_still_monitored_enters_the_elimination_flow():
    monitored, reviewing = case(H1, S.已纳入, since=date(2025, 1, 10)), case(H2, S.消除待排查, since=FRI)
    candidates = [{"household_id": h, "evidence_zh": "已监测 22 个月"} for h in (H1, H2)]
    out = decide_day(inputs(FRI, [monitored, reviewing], elimination_candidates=candidates), POLICY)
    assert steps(out, monitored.case_id) == [(S.已纳入, S.消除待排查, "风险消除候选")]
    assert steps(out, reviewing.case_id) == []  # already in the flow
    assert [t["purpose"] for t in out.tasks] == ["风险消除"] and monitored.elimination_started == FRI


def test_an_overdue_task_stays_overdue_until_its_late_result_comes_and_the_new_task_counts_from_that_day():
    due = add_working_days(FRI - timedelta(days=14), WF.pending_visit_working_days, WF)
    late = case(H1, S.待排查, since=FRI - timedelta(days=14), due_date=due, open_task="RW-OLD")
    untouched = decide_day(inputs(FRI, [late]), POLICY)
    assert untouched.events == [] and late.due_date == due < FRI  # no result: the case keeps its past due date
    out = decide_day(
        inputs(FRI, [late], visits=[visit(H1, "RW-OLD", "无法入户", FRI)], tasks={"RW-OLD": open_task("RW-OLD", late)}),
        POLICY,
    )
    assert steps(out, late.case_id) == [(S.待排查, S.待排查, "重新派发排查任务")]
    [task] = out.tasks
    assert task["due_date"] == out.events[0]["due_date"] == add_working_days(FRI, WF.pending_visit_working_days, WF)
    assert [c["how"] for c in out.closures] == ["已反馈"]


def test_the_cool_down_refuses_the_same_risk_and_reopens_for_a_new_one():
    declined = case(H1, S.不予纳入, since=FRI - timedelta(days=10), severity="高")
    application = {
        "application_id": "SQ-9",
        "application_date": FRI,
        "channel": None,
        "reason": "因病",
        "county_code": COUNTY,
        "household_id": H1,
        "_file": "applications.csv",
        "_row": 2,
    }
    refused = decide_day(inputs(FRI, [declined], applications=[application]), POLICY)
    assert refused.events == [] and [i["kind"] for i in refused.issues] == ["冷却期内未重新立案"]
    declined = case(H1, S.不予纳入, since=FRI - timedelta(days=10), severity="高")
    reopened = decide_day(
        inputs(FRI, [declined], warnings=[warning(H1, "EDU-DROPOUT", "义务教育阶段失学辍学")]), POLICY
    )
    assert steps(reopened, f"AJ-{H1}-20261106") == [(S.START, S.待排查, "立案")]
    assert "冷却期内" in reopened.events[0]["evidence_zh"]


def test_model_warnings_open_cases_only_within_the_village_weekly_capacity():
    capacity = POLICY.risk_levels.model_capacity_per_village_per_week
    model = [
        warning(h, "MODEL", "其他", None, model_warning=True, probability=p)
        for h, p in ((H1, 0.41), (H2, 0.52), (H3, 0.33))
    ]
    out = decide_day(inputs(FRI, warnings=model, model_openings={VILLAGE: capacity - 1}), POLICY)
    assert [o["household_id"] for o in out.openings] == [H2]  # one place left: the highest probability


def test_results_that_do_not_fit_the_case_state_become_issues_and_move_nothing():
    c = case(H1, S.公示中, since=FRI - timedelta(days=1))
    batch = f"GS-{VILLAGE}-20261030"
    out = decide_day(
        inputs(
            FRI,
            [c],
            decisions=[decision(H1, "确认纳入", FRI), decision(H2, "确认纳入", FRI)],
            visits=[visit(H1, "RW-404", "建议纳入", FRI), visit(H1, None, "不建议纳入", FRI, _row=3)],
            publications=[publication(H1, batch, FRI - timedelta(days=6), FRI - timedelta(days=2))],
        ),
        POLICY,
    )
    assert out.events == [] and out.tasks == [] and c.state == S.公示中
    assert [i["kind"] for i in out.issues] == ["任务编号不存在", "走访与案件状态不符", "公示批次不存在"] + [
        "决定与案件状态不符"
    ] * 2
    assert out.issues[-1]["household_id"] == H2 and "没有进行中的案件" in out.issues[-1]["description_zh"]


def test_event_numbers_continue_each_case_and_new_histories_are_legal():
    c = case(H2, S.待排查, since=FRI - timedelta(days=1), risk_types=["因自然灾害"], open_task="RW-OLD")
    out = decide_day(
        inputs(
            FRI,
            [c],
            first_run=True,
            households=[H1, H2],
            warnings=[warning(H1)],
            visits=[visit(H2, "RW-OLD", "建议纳入", FRI)],
            tasks={"RW-OLD": open_task("RW-OLD", c)},
        ),
        POLICY,
    )
    for case_id in {e["case_id"] for e in out.events if e["event_seq"] == 1}:
        ok, why = S.legal_path(steps(out, case_id))
        assert ok, why
    assert [e["event_seq"] for e in out.events if e["case_id"] == c.case_id] == [3, 4, 5, 6]
