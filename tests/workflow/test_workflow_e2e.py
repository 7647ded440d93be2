"""A 60-day closed loop of the demo county (generated data → ingest → cross-check → scores → case ledger →
simulated field team → next day's landing files): cases pass through every state, including 比对异常, an upheld
objection, a 绿色通道 case, an overdue task and a 风险消除; every history is a legal path; no household ever has two
active cases; publication lasts at least the minimum; due dates count working days; re-running the newest day and
recomputing forward from an earlier day leave the ledger byte-for-byte the same."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from ledger_story import assert_ledger_invariants
from workflow_helpers import closed_loop, run_pipeline_day

from fangfanpin.ingest.read import delivery_dates
from fangfanpin.workflow import ledger_dump, run_workflow
from fangfanpin.workflow import states as S

END = date(2026, 11, 20)
LOOP = [END - timedelta(days=59 - i) for i in range(60)]
HOUSEHOLDS = 600

pytestmark = [pytest.mark.warehouse, pytest.mark.slow(seconds=130)]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from fangfanpin.generator import MessyRates, generate

    root = tmp_path_factory.mktemp("loop")
    generate(
        root / "landing",
        root / "truth",
        counties=["150625"],
        households=HOUSEHOLDS,
        start=date(2026, 3, 1),
        end=END,
        seed=5,
        messy=MessyRates(),
        daily_days=60,
    )
    warmup = [d for d in delivery_dates(root / "landing") if d < LOOP[0]]
    closed_loop(root / "wh.duckdb", root / "landing", root / "truth", LOOP, warmup=warmup)
    con = duckdb.connect(str(root / "wh.duckdb"))
    yield con, root
    con.close()


def figures(con) -> dict:
    return {
        "cases_by_state": dict(con.execute("SELECT state, count(*) FROM cases GROUP BY 1 ORDER BY 1").fetchall()),
        "states_reached": sorted({r[0] for r in con.execute("SELECT DISTINCT new_state FROM case_events").fetchall()}),
        "比对异常": con.execute(
            "SELECT count(DISTINCT case_id) FROM case_events WHERE new_state = '比对异常'"
        ).fetchall()[0][0],
        "upheld_objections": con.execute(
            "SELECT count(*) FROM case_events WHERE evidence_zh LIKE '%异议成立%'"
        ).fetchall()[0][0],
        "绿色通道": con.execute("SELECT count(*) FROM case_events WHERE event = '绿色通道'").fetchall()[0][0],
        "overdue_cases": con.execute("SELECT count(DISTINCT case_id) FROM case_status_daily WHERE overdue").fetchall()[
            0
        ][0],
        "风险消除": con.execute(
            "SELECT count(*) FROM case_events WHERE new_state = '风险消除' AND old_state <> new_state"
        ).fetchall()[0][0],
        "不予纳入": con.execute(
            "SELECT count(*) FROM case_events WHERE new_state = '不予纳入' AND old_state <> new_state"
        ).fetchall()[0][0],
        "已纳入_confirmed": con.execute("SELECT count(*) FROM case_events WHERE event = '确认纳入'").fetchall()[0][0],
        "sources": dict(
            con.execute("""SELECT source, count(DISTINCT case_id) FROM case_events
                                       WHERE source IN ('部门预警', '模型预警', '农户申请', '干部排查', '花名册')
                                       GROUP BY 1 ORDER BY 1""").fetchall()
        ),
        "issues": dict(con.execute("SELECT kind, count(*) FROM workflow_issues GROUP BY 1 ORDER BY 1").fetchall()),
        "tasks": con.execute("SELECT count(*) FROM visit_tasks").fetchall()[0][0],
        "batches": con.execute("SELECT count(*) FROM publication_batches").fetchall()[0][0],
        "events": con.execute("SELECT count(*) FROM case_events").fetchall()[0][0],
    }


def test_every_state_is_reached(loop):
    con, _ = loop
    f = figures(con)
    print(f)
    assert set(S.STATES) <= set(f["states_reached"])
    assert f["比对异常"] > 0 and f["upheld_objections"] > 0 and f["绿色通道"] > 0 and f["overdue_cases"] > 0
    assert f["风险消除"] > 0 and f["已纳入_confirmed"] > 0
    assert {"部门预警", "农户申请", "干部排查", "花名册"} <= set(f["sources"])


def test_ledger_invariants_hold(loop):
    con, _ = loop
    assert_ledger_invariants(con)
    # every processed day of the loop is in the ledger, in order
    assert [r[0] for r in con.execute("SELECT processed_date FROM workflow_runs ORDER BY 1").fetchall()] == LOOP


def test_rerun_newest_day_and_recompute_forward_are_byte_identical(loop):
    con, root = loop
    before = ledger_dump(con)
    run_pipeline_day(con, root / "landing", LOOP[-1])  # the whole daily run again
    assert ledger_dump(con) == before
    result = run_workflow(con, LOOP[-15])  # an earlier day: recompute the last 15 days
    assert result.recomputed == LOOP[-15:]
    assert ledger_dump(con) == before
