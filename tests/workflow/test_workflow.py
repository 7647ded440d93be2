"""The case ledger on a scripted county (fast): working days, the state table, opening from each source, 比对异常,
绿色通道 with 补充公示 and an upheld objection, publication, decisions, events that do not fit (reported, not applied),
cool-down, overdue, 风险消除, and idempotent re-runs (same day, earlier day recomputes forward, or refuses)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.workflow import LedgerError, ensure_schema, ledger, ledger_dump, run_workflow
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days, is_working_day, working_days_between
from fangfanpin.workflow.decide import map_reason
from fangfanpin.workflow.load import load_cases
from fangfanpin.workflow.write import write_day

pytestmark = pytest.mark.dagster

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


# ---- calendar and state table ----------------------------------------------------------------------------------------
def test_working_days_skip_weekends_and_holidays_and_count_makeup_days():
    assert add_working_days(date(2026, 10, 30), 5, WF) == date(2026, 11, 6)  # Fri → next Fri
    assert add_working_days(date(2026, 9, 30), 1, WF) == date(2026, 10, 8)  # 国庆 holidays 10-01 … 10-07
    assert add_working_days(date(2026, 10, 9), 1, WF) == date(2026, 10, 10)  # Saturday 10-10 is a 调休 working day
    assert add_working_days(date(2026, 9, 30), 5, WF) == date(2026, 10, 13)
    assert not is_working_day(date(2026, 10, 5), WF) and is_working_day(date(2026, 10, 10), WF)
    assert working_days_between(date(2026, 10, 30), date(2026, 11, 6), WF) == 5
    assert add_working_days(date(2026, 11, 2), 0, WF) == date(2026, 11, 2)


def test_state_table_paths():
    ok, _ = S.legal_path(
        [
            (S.START, S.待排查, "立案"),
            (S.待排查, S.待比对, "走访建议纳入"),
            (S.待比对, S.待公示, "比对通过"),
            (S.待公示, S.公示中, "发布公示"),
            (S.公示中, S.待确认, "公示通过"),
            (S.待确认, S.已纳入, "确认纳入"),
            (S.已纳入, S.消除待排查, "风险消除候选"),
            (S.消除待排查, S.消除待公示, "走访建议风险消除"),
            (S.消除待公示, S.消除公示中, "发布公示"),
            (S.消除公示中, S.消除待确认, "公示通过"),
            (S.消除待确认, S.风险消除, "确认风险消除"),
        ]
    )
    assert ok
    assert not S.legal_path([(S.START, S.已纳入, "确认纳入")])[0]  # no inclusion without the steps
    assert not S.legal_path([(S.START, S.待排查, "立案"), (S.待排查, S.已纳入, "确认纳入")])[0]
    assert not S.is_legal(S.不予纳入, S.不予纳入, "新证据")  # closed cases take nothing
    assert S.is_legal(S.公示中, S.公示中, "新证据")


def test_free_text_reasons_map_to_risk_types_and_keep_unmapped_words():
    policy = load_policy()
    types, unmapped = map_reason(policy, "因病、房屋漏雨 家里揭不开锅")
    assert types == ["因病", "住房出现安全问题", "其他"] and unmapped == ["家里揭不开锅"]
    assert map_reason(policy, "车祸受伤")[0] == ["因意外事故"]
    assert map_reason(policy, "因自然灾害")[0] == ["因自然灾害"]


# ---- a scripted county -----------------------------------------------------------------------------------------------
def _insert(con, table: str, rows: list[dict]) -> None:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    for r in rows:
        con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in cols)})", [r.get(c) for c in cols])


def _feed(con, feed: str, day: date, rows: list[dict]) -> None:
    _insert(
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


def _indicators(con, day: date, **overrides) -> None:
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
        _insert(con, "household_indicators", [row])


def _rule(con, day: date, i: int, code: str = "INC-LOW", risk: str = "因病", severity: str = "高") -> None:
    _insert(
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


def _visit(task_id, i, day, conclusion, *, housing=False, risk=""):
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


def _pub(batch, i, start, end, *, objection=False, upheld=False, review="同意"):
    return {
        "batch_id": batch,
        "household_id": H[i],
        "review_result": review,
        "start_date": start,
        "end_date": end,
        "objection": objection,
        "objection_conclusion": ("异议成立" if upheld else "异议不成立") if objection else None,
    }


def _decision(i, day, kind):
    return {"household_id": H[i], "decision_type": kind, "decision_date": day, "decision_unit": "杭锦旗乡村振兴局"}


def _task(con, i: int, purpose: str | None = None) -> str | None:
    rows = con.execute(
        "SELECT task_id FROM visit_task_status WHERE household_id = ? AND status = '待走访'"
        + (" AND purpose = ?" if purpose else ""),
        [H[i]] + ([purpose] if purpose else []),
    ).fetchall()
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def _state(con, i: int) -> str:
    rows = con.execute(
        "SELECT state FROM cases WHERE household_id = ? ORDER BY opened_date DESC, case_id DESC", [H[i]]
    ).fetchall()
    return rows[0][0] if rows else None


def _batch(con, i: int) -> tuple:
    return con.execute(
        """SELECT b.batch_id, b.start_date, b.end_date FROM publication_members m JOIN publication_batches b
                          USING (batch_id) WHERE m.household_id = ? ORDER BY b.batch_id DESC LIMIT 1""",
        [H[i]],
    ).fetchall()[0]


@pytest.fixture
def county(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    _feed(
        con,
        "roster",
        D1,
        [{"household_id": H[i], "id_number": ID[i], "village_code": VILLAGE, "name": f"户主{i}"} for i in H],
    )
    _insert(
        con,
        "snapshot_versions",
        [{"feed": "roster", "delivery_date": D1, "county_code": COUNTY, "rows": 6, "status": "applied"}],
    )
    yield con
    con.close()


def _issues(con, day) -> dict:
    return {
        k: n
        for k, n in con.execute(
            "SELECT kind, count(*) FROM workflow_issues WHERE processed_date = ? GROUP BY 1", [day]
        ).fetchall()
    }


def _run_story(con) -> None:
    """Six delivery days; assertions along the way."""
    policy = load_policy()
    # D1: a rule opens H1; H2 applies (through a member's ID); one application matches nobody; H3 comes from the
    # roster into 已纳入; a rule opens H5 (its visit will be late).
    _indicators(con, D1)
    _rule(con, D1, 1)
    _rule(con, D1, 5, "WAT-UNSAFE", "饮水安全问题", "中")
    _feed(
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
    assert (_state(con, 1), _state(con, 2), _state(con, 3), _state(con, 5)) == (S.待排查, S.待排查, S.已纳入, S.待排查)
    assert _issues(con, D1) == {"申请未匹配农户": 1}
    t1 = _task(con, 1)
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
    _indicators(con, D2)
    _rule(con, D2, 1)
    t2 = _task(con, 2)
    _feed(con, "visit_results", D2, [_visit(t1, 1, D2, "建议纳入", housing=True), _visit(t2, 2, D2, "建议纳入")])
    _feed(con, "county_decisions", D2, [_decision(4, D2, "确认纳入")])
    run_workflow(con, D2, policy)
    assert _state(con, 1) == S.比对异常 and _task(con, 1, "复核") is not None
    anomaly = con.execute(
        "SELECT evidence_zh FROM case_events WHERE household_id = ? AND event = '比对异常'", [H[1]]
    ).fetchall()
    assert "D级" in anomaly[0][0] and "住建" in anomaly[0][0]
    assert _state(con, 2) == S.待确认
    assert [
        r[0]
        for r in con.execute(
            "SELECT event FROM case_events WHERE household_id = ? ORDER BY event_seq", [H[2]]
        ).fetchall()
    ] == ["立案", "走访建议纳入", "绿色通道", "补充比对通过", "补充公示发布"]
    assert _issues(con, D2) == {"决定与案件状态不符": 1, "申请未匹配农户": 1}  # the application stays pending
    assert _state(con, 3) == S.消除待排查
    assert con.execute("SELECT count(*) FROM elimination_candidates WHERE as_of_date = ?", [D2]).fetchall() == [(1,)]
    assert (
        con.execute(
            "SELECT count(*) FROM case_events WHERE household_id = ? AND processed_date = ?", [H[1], D2]
        ).fetchall()[0][0]
        == 2
    )  # 走访建议纳入, 比对异常, no 新证据 for the repeated rule

    # D3: the reviewer settles H1 → 待公示 → 公示中 in today's village batch; the old (closed) task's visit is
    # reported; the county confirms H2 (绿色通道) before its 补充公示 ends; H3's visit says the risk is gone.
    _indicators(con, D3)
    _feed(
        con,
        "visit_results",
        D3,
        [
            _visit(_task(con, 1), 1, D3, "建议纳入"),
            _visit(t1, 1, D3 - timedelta(days=1), "建议纳入"),
            _visit(_task(con, 3), 3, D3, "建议风险消除"),
        ],
    )
    _feed(con, "county_decisions", D3, [_decision(2, D3, "确认纳入")])
    run_workflow(con, D3, policy)
    assert _state(con, 1) == S.公示中 and _state(con, 2) == S.已纳入 and _state(con, 3) == S.消除公示中
    assert _issues(con, D3) == {"任务已关闭": 1, "申请未匹配农户": 1}
    batch, start, end = _batch(con, 1)
    assert batch == f"GS-{VILLAGE}-20261104" and (end - start).days + 1 >= WF.publication_min_days
    assert _batch(con, 3)[0] == batch

    # D4 (after the batch ended): H1 passes → 待确认; H2's 补充公示 has an upheld objection → 比对异常 (even though
    # confirmed); H3's elimination publication passes; a result sent before the end would have been refused.
    _indicators(con, D4)
    b2, s2, e2 = _batch(con, 2)
    _feed(
        con,
        "publication_results",
        D4,
        [_pub(batch, 1, start, end), _pub(b2, 2, s2, e2, objection=True, upheld=True), _pub(batch, 3, start, end)],
    )
    run_workflow(con, D4, policy)
    assert (_state(con, 1), _state(con, 2), _state(con, 3)) == (S.待确认, S.比对异常, S.消除待确认)
    # H5 never got a visit: its task is overdue and listed every day until it moves
    row = con.execute(
        "SELECT case_status, due_date, overdue FROM case_status_daily WHERE as_of_date = ? AND household_id = ?",
        [D4, H[5]],
    ).fetchall()[0]
    assert row == (S.待排查, date(2026, 11, 9), True)

    # D5: the county declines H1 (a decision the model would not expect) and confirms H3's elimination.
    _indicators(con, D5)
    _feed(con, "county_decisions", D5, [_decision(1, D5, "不予纳入"), _decision(3, D5, "确认风险消除")])
    run_workflow(con, D5, policy)
    assert _state(con, 1) == S.不予纳入 and _state(con, 3) == S.风险消除

    # D6: cool-down: the same rule does not re-open H1; an application with a new risk type does, as a new case.
    _indicators(con, D6)
    _rule(con, D6, 1)
    run_workflow(con, D6, policy)
    assert con.execute("SELECT count(*) FROM cases WHERE household_id = ?", [H[1]]).fetchall()[0][0] == 1


def _assert_ledger_invariants(con) -> None:
    for case_id, steps in _histories(con).items():
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


def _histories(con) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list] = {}
    for case_id, old, new, event in con.execute(
        "SELECT case_id, old_state, new_state, event FROM case_events ORDER BY case_id, event_seq"
    ).fetchall():
        out.setdefault(case_id, []).append((old, new, event))
    return out


def test_scripted_county_story(county):
    _run_story(county)
    _assert_ledger_invariants(county)
    # a new risk type re-opens within the cool-down, as a second (new) case
    _rule(county, D6, 1, "EDU-DROPOUT", "义务教育阶段失学辍学", "高")
    run_workflow(county, D6)
    cases = county.execute(
        "SELECT case_id, state FROM cases WHERE household_id = ? ORDER BY case_id", [H[1]]
    ).fetchall()
    assert [s for _, s in cases] == [S.不予纳入, S.待排查]
    assert cases[1][0] == f"AJ-{H[1]}-20261112"
    _assert_ledger_invariants(county)


def test_rerunning_a_day_is_byte_identical_and_earlier_days_recompute_forward(county):
    _run_story(county)
    before = ledger_dump(county)
    run_workflow(county, D6)  # the newest day again
    assert ledger_dump(county) == before
    result = run_workflow(county, D3)  # an earlier day: recompute D3, D4, D5, D6
    assert result.recomputed == [D3, D4, D5, D6]
    assert ledger_dump(county) == before
    with pytest.raises(LedgerError, match="recompute forward") as err:
        run_workflow(county, D2, recompute_forward=False)
    assert "案件台账已处理到 2026-11-12" in str(err.value)
    assert ledger_dump(county) == before  # the refusal changed nothing


def test_replay_any_day_from_events(county):
    _run_story(county)
    on_d3 = dict(county.execute("SELECT household_id, state FROM cases_asof(?)", [D3]).fetchall())
    assert on_d3[H[1]] == S.公示中 and on_d3[H[2]] == S.已纳入 and on_d3[H[3]] == S.消除公示中
    status = dict(
        county.execute("SELECT household_id, case_status FROM case_status_daily WHERE as_of_date = ?", [D3]).fetchall()
    )
    assert status[H[1]] == S.公示中


def test_failed_run_leaves_the_ledger_untouched(county, monkeypatch):
    _run_story(county)
    before = ledger_dump(county)

    def write_then_fail(con, day, decisions):
        write_day(con, day, decisions)  # the day's rows are in the warehouse when the run fails
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(ledger, "write_day", write_then_fail)
    with pytest.raises(RuntimeError):
        run_workflow(county, D4)
    assert ledger_dump(county) == before


def test_dagster_asset_materializes_the_ledger(tmp_path):
    import re

    from dagster import materialize

    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.assets.workflow import workflow_assets

    db = tmp_path / "asset.duckdb"
    con = duckdb.connect(str(db))
    ensure_schema(con)
    _indicators(con, D1)
    _rule(con, D1, 1)
    con.close()
    result = materialize(workflow_assets, partition_key=D1.isoformat(), resources=pipeline_resources(warehouse=str(db)))
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["cases_opened_today"].value == 2  # H1 by its rule, H3 from the roster
    text = " ".join(str(v.value) for v in metadata.values())
    assert "待排查" in text and not re.search(r"\d{17}[\dXx]", text)
    again = materialize(workflow_assets, partition_key=D1.isoformat(), resources=pipeline_resources(warehouse=str(db)))
    assert again.success
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchall()[0][0] == 2


def test_model_warnings_respect_the_weekly_village_capacity(county):
    capacity = load_policy().risk_levels.model_capacity_per_village_per_week
    extra = {f"15062510020199{i:03d}": 0.30 + i / 100 for i in range(capacity + 3)}
    for day in (D1, D2):
        _indicators(county, day)
        for hid, p in extra.items():
            _insert(
                county,
                "household_indicators",
                [
                    {
                        "as_of_date": day,
                        "county_code": COUNTY,
                        "township": TOWNSHIP,
                        "village_code": VILLAGE,
                        "household_id": hid,
                        "monitored": False,
                    }
                ],
            )
            _insert(
                county,
                "household_scores",
                [
                    {
                        "as_of_date": day,
                        "county_code": COUNTY,
                        "village_code": VILLAGE,
                        "household_id": hid,
                        "monitored": False,
                        "probability": p,
                        "risk_level": "中",
                        "rule_codes": "MODEL",
                        "risk_types": "其他",
                        "model_warning": True,
                        "explanation_zh": "模型预警",
                        "top_features_zh": "",
                    }
                ],
            )
        run_workflow(county, day)
    opened = county.execute(
        "SELECT household_id FROM case_openings WHERE opening_source = '模型预警' ORDER BY 1"
    ).fetchall()
    # the same week (Mon D1, Tue D2): only `capacity` model-only cases in the village, highest probability first
    assert [r[0] for r in opened] == sorted(extra, key=lambda h: -extra[h])[:capacity][::-1]


def test_a_day_loads_only_the_cases_it_can_touch(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    day, long_ago = D6, D6 - timedelta(days=WF.declined_cooldown_days + 30)
    cases = {
        "open": (S.待排查, D5, D5),
        "monitored": (S.已纳入, D1, D1),
        "declined_recently": (S.不予纳入, D1, D6 - timedelta(days=WF.declined_cooldown_days - 1)),
        "declined_long_ago": (S.不予纳入, long_ago, long_ago),
        "eliminated": (S.风险消除, long_ago, long_ago),
        "named_by_a_publication": (S.风险消除, long_ago, long_ago),
        "opened_today": (S.不予纳入, day, day),
    }
    _insert(
        con,
        "cases",
        [
            {
                "case_id": name,
                "household_id": f"H-{name}",
                "opened_date": opened,
                "state": state,
                "state_since": since,
                "last_event_seq": 1,
            }
            for name, (state, opened, since) in cases.items()
        ],
    )
    loaded = load_cases(con, day, WF.declined_cooldown_days, ["named_by_a_publication"])
    assert sorted(loaded) == sorted(
        ["open", "monitored", "declined_recently", "named_by_a_publication", "opened_today"]
    )
    assert loaded["declined_recently"].state == S.不予纳入 and loaded["open"].state_since == D5
