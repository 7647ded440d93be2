"""A scripted county for the case-ledger tests: six households of one village, six delivery days, and the
rows each department and the field team send, inserted straight into the warehouse tables."""

from __future__ import annotations

from datetime import date, timedelta

from fangfanpin.config.policy import load_policy
from fangfanpin.workflow import run_workflow
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days

WF = load_policy().workflow
COUNTY, VILLAGE, TOWNSHIP = "150625", "150625100201", "锡尼镇"
H = {i: f"1506251002010000{i}" for i in range(1, 7)}  # H[1] … H[6]
ID = {i: f"15062519800101{i:03d}X" for i in range(1, 7)}
D1, D2, D3, D4, D5, D6 = (
    date(2026, 11, 2),
    date(2026, 11, 3),
    date(2026, 11, 4),
    date(2026, 11, 10),
    date(2026, 11, 11),
    date(2026, 11, 12),
)


def insert_rows(con, table: str, rows: list[dict]) -> None:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    for r in rows:
        con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in cols)})", [r.get(c) for c in cols])


def insert_feed(con, feed: str, day: date, rows: list[dict]) -> None:
    insert_rows(
        con,
        feed,
        [
            r
            | {
                "_delivery_date": day,
                "_file": f"{feed}_{COUNTY}.csv",
                "_file_seq": 0,
                "_row": i + 2,
                "county_code": COUNTY,
            }
            for i, r in enumerate(rows)
        ],
    )


def insert_indicators(con, day: date, **overrides) -> None:
    """Every household's indicators for ``day``: H3 monitored since 2025 and well off; H1 lives in a D级 house."""
    for i, hid in H.items():
        row = {
            "as_of_date": day,
            "county_code": COUNTY,
            "township": TOWNSHIP,
            "village_code": VILLAGE,
            "household_id": hid,
            "household_type": "一般农户",
            "monitored": i == 3,
            "risk_identified_date": date(2025, 1, 10) if i == 3 else None,
            "income_position": 6000.0,
            "labour_count": 2,
            "income_source": "survey",
        }
        if i == 1:
            row |= {"housing_grade": "D", "renovation_status": "未改造"}
        if i == 3:
            row |= {"income_position": 15000.0, "household_type": "监测户"}
        row |= overrides.get(hid, {})
        insert_rows(con, "household_indicators", [row])


def insert_rule_hit(con, day: date, i: int, code: str = "INC-LOW", risk: str = "因病", severity: str = "高") -> None:
    insert_rows(
        con,
        "rule_hits",
        [
            {
                "as_of_date": day,
                "county_code": COUNTY,
                "township": TOWNSHIP,
                "village_code": VILLAGE,
                "household_id": H[i],
                "rule_code": code,
                "risk_type": risk,
                "severity": severity,
                "explanation_zh": f"{code} 测试证据（测试）",
                "monitored": False,
            }
        ],
    )


def visit_row(task_id, i, day, conclusion, *, housing=False, risk=""):
    return {
        "task_id": task_id,
        "household_id": H[i],
        "visit_date": day,
        "visitor": "驻村工作队 王建国",
        "verified_income_per_capita": 5000.0,
        "education_secured": True,
        "medical_secured": True,
        "housing_secured": housing,
        "water_secured": True,
        "risk_types": risk,
        "conclusion": conclusion,
    }


def publication_row(batch, i, start, end, *, objection=False, upheld=False, review="同意"):
    return {
        "batch_id": batch,
        "household_id": H[i],
        "review_result": review,
        "start_date": start,
        "end_date": end,
        "objection": objection,
        "objection_conclusion": ("异议成立" if upheld else "异议不成立") if objection else None,
    }


def decision_row(i, day, kind):
    return {"household_id": H[i], "decision_type": kind, "decision_date": day, "decision_unit": "杭锦旗乡村振兴局"}


def open_task(con, i: int, purpose: str | None = None) -> str | None:
    rows = con.execute(
        "SELECT task_id FROM visit_task_status WHERE household_id = ? AND status = '待走访'"
        + (" AND purpose = ?" if purpose else ""),
        [H[i]] + ([purpose] if purpose else []),
    ).fetchall()
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def case_state(con, i: int) -> str:
    rows = con.execute(
        "SELECT state FROM cases WHERE household_id = ? ORDER BY opened_date DESC, case_id DESC", [H[i]]
    ).fetchall()
    return rows[0][0] if rows else None


def latest_batch(con, i: int) -> tuple:
    return con.execute(
        """SELECT b.batch_id, b.start_date, b.end_date FROM publication_members m JOIN publication_batches b
                          USING (batch_id) WHERE m.household_id = ? ORDER BY b.batch_id DESC LIMIT 1""",
        [H[i]],
    ).fetchall()[0]


def issue_counts(con, day) -> dict:
    return {
        k: n
        for k, n in con.execute(
            "SELECT kind, count(*) FROM workflow_issues WHERE processed_date = ? GROUP BY 1", [day]
        ).fetchall()
    }


def run_story(con) -> None:
    """Six delivery days; assertions along the way."""
    policy = load_policy()
    # D1: a rule opens H1; H2 applies (through a member's ID); one application matches nobody; H3 comes from the
    # roster into 已纳入; a rule opens H5 (its visit will be late).
    insert_indicators(con, D1)
    insert_rule_hit(con, D1, 1)
    insert_rule_hit(con, D1, 5, "WAT-UNSAFE", "饮水安全问题", "中")
    insert_feed(
        con,
        "applications",
        D1,
        [
            {
                "application_id": "SQ-1",
                "application_date": D1,
                "channel": "12317热线",
                "head_id_number": ID[2],
                "applicant_name": "申请人",
                "village_code": VILLAGE,
                "reason": "车祸受伤、家里揭不开锅",
            },
            {
                "application_id": "SQ-2",
                "application_date": D1,
                "head_id_number": "150625199901010000",
                "applicant_name": "无名",
                "village_code": VILLAGE,
                "reason": "因病",
            },
        ],
    )
    run_workflow(con, D1, policy)
    assert (case_state(con, 1), case_state(con, 2), case_state(con, 3), case_state(con, 5)) == (
        S.待排查,
        S.待排查,
        S.已纳入,
        S.待排查,
    )
    assert issue_counts(con, D1) == {"申请未匹配农户": 1}
    t1 = open_task(con, 1)
    assert t1 == "RW-150625-20261102-0001"
    due = con.execute("SELECT due_date FROM visit_tasks WHERE task_id = ?", [t1]).fetchall()[0][0]
    assert due == add_working_days(D1, WF.pending_visit_working_days, WF) == date(2026, 11, 9)
    h2 = con.execute("SELECT sources, risk_types FROM cases WHERE household_id = ?", [H[2]]).fetchall()[0]
    assert h2 == ("农户申请", "其他;因意外事故")
    evidence = con.execute("SELECT evidence_zh FROM case_events WHERE household_id = ?", [H[2]]).fetchall()[0][0]
    assert "家里揭不开锅" in evidence

    # D2: H1's visit calls the D级 house safe → 比对异常 with a review task; H2 (因意外事故) → 绿色通道 → 待确认 and a
    # 补充公示; a decision for H4 (no case) is reported; H3 is a 风险消除 candidate → 消除待排查; the rule fires again
    # for H1 (nothing new: no event).
    insert_indicators(con, D2)
    insert_rule_hit(con, D2, 1)
    t2 = open_task(con, 2)
    insert_feed(
        con, "visit_results", D2, [visit_row(t1, 1, D2, "建议纳入", housing=True), visit_row(t2, 2, D2, "建议纳入")]
    )
    insert_feed(con, "county_decisions", D2, [decision_row(4, D2, "确认纳入")])
    run_workflow(con, D2, policy)
    assert case_state(con, 1) == S.比对异常 and open_task(con, 1, "复核") is not None
    anomaly = con.execute(
        "SELECT evidence_zh FROM case_events WHERE household_id = ? AND event = '比对异常'", [H[1]]
    ).fetchall()
    assert "D级" in anomaly[0][0] and "住建" in anomaly[0][0]
    assert case_state(con, 2) == S.待确认
    assert [
        r[0]
        for r in con.execute(
            "SELECT event FROM case_events WHERE household_id = ? ORDER BY event_seq", [H[2]]
        ).fetchall()
    ] == ["立案", "走访建议纳入", "绿色通道", "补充比对通过", "补充公示发布"]
    assert issue_counts(con, D2) == {"决定与案件状态不符": 1, "申请未匹配农户": 1}  # the application stays pending
    assert case_state(con, 3) == S.消除待排查
    assert con.execute("SELECT count(*) FROM elimination_candidates WHERE as_of_date = ?", [D2]).fetchall() == [(1,)]
    assert (
        con.execute(
            "SELECT count(*) FROM case_events WHERE household_id = ? AND processed_date = ?", [H[1], D2]
        ).fetchall()[0][0]
        == 2
    )  # 走访建议纳入, 比对异常, no 新证据 for the repeated rule

    # D3: the reviewer settles H1 → 待公示 → 公示中 in today's village batch; the old (closed) task's visit is
    # reported; the county confirms H2 (绿色通道) before its 补充公示 ends; H3's visit says the risk is gone.
    insert_indicators(con, D3)
    insert_feed(
        con,
        "visit_results",
        D3,
        [
            visit_row(open_task(con, 1), 1, D3, "建议纳入"),
            visit_row(t1, 1, D3 - timedelta(days=1), "建议纳入"),
            visit_row(open_task(con, 3), 3, D3, "建议风险消除"),
        ],
    )
    insert_feed(con, "county_decisions", D3, [decision_row(2, D3, "确认纳入")])
    run_workflow(con, D3, policy)
    assert case_state(con, 1) == S.公示中 and case_state(con, 2) == S.已纳入 and case_state(con, 3) == S.消除公示中
    assert issue_counts(con, D3) == {"任务已关闭": 1, "申请未匹配农户": 1}
    batch, start, end = latest_batch(con, 1)
    assert batch == f"GS-{VILLAGE}-20261104" and (end - start).days + 1 >= WF.publication_min_days
    assert latest_batch(con, 3)[0] == batch

    # D4 (after the batch ended): H1 passes → 待确认; H2's 补充公示 has an upheld objection → 比对异常 (even though
    # confirmed); H3's elimination publication passes; a result sent before the end would have been refused.
    insert_indicators(con, D4)
    b2, s2, e2 = latest_batch(con, 2)
    insert_feed(
        con,
        "publication_results",
        D4,
        [
            publication_row(batch, 1, start, end),
            publication_row(b2, 2, s2, e2, objection=True, upheld=True),
            publication_row(batch, 3, start, end),
        ],
    )
    run_workflow(con, D4, policy)
    assert (case_state(con, 1), case_state(con, 2), case_state(con, 3)) == (S.待确认, S.比对异常, S.消除待确认)
    # H5 never got a visit: its task is overdue and listed every day until it moves
    row = con.execute(
        "SELECT case_status, due_date, overdue FROM case_status_daily WHERE as_of_date = ? AND household_id = ?",
        [D4, H[5]],
    ).fetchall()[0]
    assert row == (S.待排查, date(2026, 11, 9), True)

    # D5: the county declines H1 (a decision the model would not expect) and confirms H3's elimination.
    insert_indicators(con, D5)
    insert_feed(con, "county_decisions", D5, [decision_row(1, D5, "不予纳入"), decision_row(3, D5, "确认风险消除")])
    run_workflow(con, D5, policy)
    assert case_state(con, 1) == S.不予纳入 and case_state(con, 3) == S.风险消除

    # D6: cool-down: the same rule does not re-open H1; an application with a new risk type does, as a new case.
    insert_indicators(con, D6)
    insert_rule_hit(con, D6, 1)
    run_workflow(con, D6, policy)
    assert con.execute("SELECT count(*) FROM cases WHERE household_id = ?", [H[1]]).fetchall()[0][0] == 1


def assert_ledger_invariants(con) -> None:
    for case_id, steps in case_histories(con).items():
        ok, why = S.legal_path(steps)
        assert ok, f"{case_id}: {why}"
    # one active case per household, on every processed day
    assert (
        con.execute("""
        SELECT count(*) FROM (SELECT d.processed_date, c.household_id FROM workflow_runs d, cases_asof(d.processed_date) c
                              WHERE c.state NOT IN ('不予纳入', '风险消除') GROUP BY ALL HAVING count(*) > 1)""").fetchall()[
            0
        ][0]
        == 0
    )
    assert (
        con.execute(
            """SELECT count(*) FROM publication_batches
                          WHERE datediff('day', start_date, end_date) + 1 < ?""",
            [WF.publication_min_days],
        ).fetchall()[0][0]
        == 0
    )
    for issued, due, purpose in con.execute("SELECT issued_date, due_date, purpose FROM visit_tasks").fetchall():
        n = WF.review_anomaly_working_days if purpose == "复核" else WF.pending_visit_working_days
        assert due == add_working_days(issued, n, WF)
    # event_seq is 1..n per case, with no gaps
    assert (
        con.execute("""SELECT count(*) FROM (SELECT case_id FROM case_events GROUP BY 1
                          HAVING max(event_seq) <> count(*) OR min(event_seq) <> 1)""").fetchall()[0][0]
        == 0
    )
    # the cases table is every case as of the newest processed date, as the deliverables read it
    stale = con.execute("""SELECT count(*) FROM (
                              (SELECT * FROM cases EXCEPT ALL SELECT * FROM cases_asof(DATE '9999-12-31'))
                              UNION ALL
                              (SELECT * FROM cases_asof(DATE '9999-12-31') EXCEPT ALL SELECT * FROM cases))""")
    assert stale.fetchall()[0][0] == 0


def case_histories(con) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list] = {}
    for case_id, old, new, event in con.execute(
        "SELECT case_id, old_state, new_state, event FROM case_events ORDER BY case_id, event_seq"
    ).fetchall():
        out.setdefault(case_id, []).append((old, new, event))
    return out
