"""The tamper-evident case ledger: a real small warehouse (generated county, three delivery dates through
ingest → cross-check → scores → ledger), then one event altered or removed on a copy: ``verify_chain``, the
``fangfanpin verify-ledger`` command and the blocking Dagster asset check all name the first bad event."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from fangfanpin.ingest.read import delivery_dates
from fangfanpin.workflow import ledger_dump, run_workflow
from fangfanpin.workflow.chain import GENESIS, verify_chain

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=14)]


@pytest.fixture(scope="module")
def ledger_db(small_landing, tmp_path_factory) -> tuple[Path, list]:
    from workflow_helpers import run_pipeline_day

    db = tmp_path_factory.mktemp("chain") / "wh.duckdb"
    dates = delivery_dates(small_landing)
    days = dates[-4:]  # a month-end snapshot, then daily deliveries
    with duckdb.connect(str(db)) as con:
        for day in dates[:-4]:
            run_pipeline_day(con, small_landing, day, workflow=False)
        for day in days:
            run_pipeline_day(con, small_landing, day)
    return db, days


@pytest.fixture
def copy(ledger_db, tmp_path, monkeypatch):
    db, days = ledger_db
    monkeypatch.setenv("FFP_OUTBOX_DIR", str(tmp_path / "outbox"))  # verify-ledger reads no var/outbox of a demo
    target = tmp_path / "wh.duckdb"
    shutil.copy(db, target)
    con = duckdb.connect(str(target))
    yield con, target, days
    con.close()


def _events(con) -> list[tuple]:
    return con.execute(
        "SELECT case_id, event_seq, event_date, processed_date FROM case_events "
        "ORDER BY processed_date, case_id, event_seq"
    ).fetchall()


def test_chain_is_complete_and_intact(copy):
    con, _, days = copy
    events = _events(con)
    assert len(events) > 50
    assert (
        con.execute("SELECT count(*) FROM case_events WHERE event_hash IS NULL OR prev_hash IS NULL").fetchall()[0][0]
        == 0
    )
    first = con.execute(
        "SELECT prev_hash FROM case_events ORDER BY processed_date, case_id, event_seq LIMIT 1"
    ).fetchall()
    assert first[0][0] == GENESIS
    assert [r[0] for r in con.execute("SELECT processed_date FROM ledger_chain ORDER BY 1").fetchall()] == days
    report = verify_chain(con)
    assert report.intact and report.events == len(events)


def test_rerun_and_recompute_forward_keep_the_chain_byte_identical(copy):
    con, _, days = copy
    before = ledger_dump(con)
    run_workflow(con, days[-1])
    assert ledger_dump(con) == before
    assert len(con.execute("SELECT DISTINCT processed_date FROM case_events").fetchall()) >= 2
    run_workflow(con, days[0])  # recompute forward: every day's suffix rehashed from the same start
    assert ledger_dump(con) == before
    assert verify_chain(con).intact


def test_an_altered_field_is_found(copy, monkeypatch, capsys):
    from fangfanpin.pipeline.cli import main

    con, path, _ = copy
    events = _events(con)
    case_id, seq, event_date, processed = events[len(events) // 2]
    con.execute(
        "UPDATE case_events SET new_state = '已纳入', evidence_zh = '改过' WHERE case_id = ? AND event_seq = ?",
        [case_id, seq],
    )
    report = verify_chain(con)
    assert report.first.kind == "altered"
    assert (report.first.case_id, report.first.event_seq, report.first.event_date) == (case_id, seq, event_date)
    con.close()
    monkeypatch.setenv("FFP_WAREHOUSE", str(path))
    assert main(["verify-ledger"]) == 1
    err = capsys.readouterr().err
    assert case_id in err and f"第 {seq} 号事件" in err and str(event_date) in err
    assert "被改动" in err and "altered" in err


def test_a_removed_event_is_found(copy, monkeypatch, capsys):
    from fangfanpin.pipeline.cli import main

    con, path, _ = copy
    events = _events(con)
    # an event in the middle whose case has a later event: the gap is named in the case itself
    multi = {r[0] for r in con.execute("SELECT case_id FROM case_events GROUP BY 1 HAVING count(*) >= 2").fetchall()}
    i = next(i for i, e in enumerate(events) if e[0] in multi and e[1] == 1 and i > 0)
    case_id, seq, _, _ = events[i]
    con.execute("DELETE FROM case_events WHERE case_id = ? AND event_seq = ?", [case_id, seq])
    report = verify_chain(con)
    after = events[i + 1]
    assert report.first.kind == "removed"
    assert (report.first.case_id, report.first.event_seq) == (after[0], after[1])
    if after[0] == case_id:
        assert report.first.missing_seq == seq
    con.close()
    monkeypatch.setenv("FFP_WAREHOUSE", str(path))
    assert main(["verify-ledger"]) == 1
    err = capsys.readouterr().err
    assert "被删除" in err and "removed" in err and after[0] in err


def test_removing_the_newest_event_or_a_whole_day_is_found(copy):
    con, _, days = copy
    newest = _events(con)[-1]
    con.execute("DELETE FROM case_events WHERE case_id = ? AND event_seq = ?", list(newest[:2]))
    report = verify_chain(con)
    assert report.first.kind == "truncated" and report.first.processed_date == newest[3]
    assert "末尾事件被删除" in report.message()


def test_intact_ledger_exits_0(copy, monkeypatch, capsys):
    from fangfanpin.pipeline.cli import main

    con, path, _ = copy
    con.close()
    monkeypatch.setenv("FFP_WAREHOUSE", str(path))
    assert main(["verify-ledger"]) == 0
    assert "完整" in capsys.readouterr().out


def test_a_ledger_made_before_the_chain_is_hashed_once(copy):
    from fangfanpin.workflow.ledger import ensure_schema

    con, _, _ = copy
    before = ledger_dump(con)
    con.execute("DROP TABLE ledger_chain")
    con.execute("DELETE FROM ffp_schema")  # its DDL predates the chain
    con.execute("ALTER TABLE case_events DROP COLUMN prev_hash")
    con.execute("ALTER TABLE case_events DROP COLUMN event_hash")
    ensure_schema(con)
    assert ledger_dump(con) == before  # the same hashes as a ledger built with the chain from the start
    assert verify_chain(con).intact


def test_blocking_asset_check_stops_the_deliverables(copy, ffp_env):
    from dagster_helpers import materialize_day

    from fangfanpin.assets.deliverables import county_outbox
    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.assets.workflow import ledger_hash_chain, workflow_assets

    con, path, days = copy
    resources = pipeline_resources(warehouse=str(path))
    con.close()
    ok = materialize_day([*workflow_assets, ledger_hash_chain], partition_key=days[-1].isoformat(), resources=resources)
    assert ok.success and all(e.passed for e in ok.get_asset_check_evaluations())
    with duckdb.connect(str(path)) as con:  # tamper with the first day: a run of the newest day does not rewrite it
        case_id, seq = con.execute(
            "SELECT case_id, event_seq FROM case_events WHERE processed_date = ? ORDER BY case_id LIMIT 1", [days[0]]
        ).fetchall()[0]
        con.execute("UPDATE case_events SET unit = '某人' WHERE case_id = ? AND event_seq = ?", [case_id, seq])
    bad = materialize_day(
        [*workflow_assets, ledger_hash_chain, county_outbox],
        partition_key=days[-1].isoformat(),
        resources=resources,
        raise_on_error=False,
    )
    (evaluation,) = bad.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["case_id"].value == case_id
    assert "被改动" in evaluation.metadata["result"].value
    assert not bad.success
    assert [e.asset_key.path for e in bad.get_asset_materialization_events()] == [["workflow", "case_ledger"]]
    assert not (ffp_env / "outbox" / days[-1].isoformat()).exists()
