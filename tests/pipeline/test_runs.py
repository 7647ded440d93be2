"""Every delivery date is processed exactly once, in order (docs/operations.md), with the ``fangfanpin run`` command
(in its own process where the process matters: a kill, the start-up; else in the test's), real Dagster instances and a
small generated landing of two counties (tests/pipeline/conftest.py):

- a date whose run failed (an outbox folder that cannot be made) or was killed is not done: ``run --pending`` retries
  it, and a killed run is marked failed in the instance;
- a county's late file in a processed date's folder is picked up by ``run --pending``, and every later date is
  recomputed after it (the same warehouse and candidates.csv as if the file had come on time); ``run --date`` of an
  earlier date recomputes forward, or refuses when a later date's landing folder is gone;
- folders not named by a real date are reported, never run;
- the sensor and the schedule start what ``run --pending`` would run, in date order, never while a run is queued,
  and never retry a failed date in a loop.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.instance.ref import InstanceRef
from landing_helpers import read_text_rows
from runs_helpers import COUNTIES, ffp, ran, run_env, world

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=125)]


def _point_at(root: Path, monkeypatch) -> None:
    """This process's settings: the world ``root``'s folders."""
    for variable, value in run_env(root).items():
        if variable.startswith(("FFP_", "DAGSTER_")):
            monkeypatch.setenv(variable, value)


def _pending(root: Path, monkeypatch) -> list[date]:
    """What ``run --pending`` would run now (in this process: no second start-up)."""
    from fangfanpin.pipeline.launch import pending_plan, prepare_environment

    _point_at(root, monkeypatch)
    prepare_environment()
    with DagsterInstance.get() as instance:
        return pending_plan(instance)[0].days


def _runs(root: Path) -> list:
    """The instance's runs, oldest first."""
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(root / "dagster"))) as instance:
        return list(reversed(instance.get_runs()))


def _tables(root: Path) -> dict[str, list]:
    """Every warehouse table but the run bookkeeping (it names runs and times)."""
    with duckdb.connect(str(root / "wh" / "warehouse.duckdb"), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = "
                "'BASE TABLE' AND table_name <> 'delivery_runs' ORDER BY 1"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in names}


def _candidates(root: Path, day: date) -> dict[str, bytes]:
    return {c: (root / "outbox" / day.isoformat() / c / "candidates.csv").read_bytes() for c in COUNTIES}


def _run_here(root: Path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``fangfanpin *args`` in this process, in the world ``root``: (exit status, stdout, stderr). The command's own
    code without a second start-up; what a process of its own adds (a kill, an exit status) the killed-run test here
    and tests/pipeline/test_reliability.py check."""
    from fangfanpin.pipeline.cli import main

    _point_at(root, monkeypatch)
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------------------------- failed and killed runs
def test_a_failed_run_is_not_done_and_pending_retries_exactly_it(processed, deliveries, tmp_path, monkeypatch, capsys):
    d2 = deliveries[1][1]
    root = world(processed, tmp_path, deliveries, d2)
    (root / "outbox" / d2.isoformat()).write_text("a file where the date's folder must be")
    (root / "landing" / "20261118").mkdir()  # a folder to report (status 2) does not hide the failure (status 1)
    status, _, err = _run_here(root, monkeypatch, capsys, "run", "--pending")
    assert status == 1 and f"{d2}: run" in err and "failed" in err
    assert "20261118" in err
    (root / "outbox" / d2.isoformat()).unlink()
    (root / "landing" / "20261118").rmdir()
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--pending")
    assert status == 0, err[-3000:]
    assert ran(out) == [d2.isoformat()]
    assert "did not finish" in out
    assert _pending(root, monkeypatch) == []
    assert [r.tags["dagster/partition"] for r in _runs(root)][-2:] == [d2.isoformat(), d2.isoformat()]
    # a warehouse made before the bookkeeping table (and so by an older schema): the dates its case ledger
    # processed count as done
    with duckdb.connect(str(root / "wh" / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE delivery_runs")
        con.execute("DELETE FROM ffp_schema")
    assert _pending(root, monkeypatch) == []


def test_a_killed_run_is_marked_failed_and_pending_retries_it(processed, deliveries, tmp_path, monkeypatch, capsys):
    d2 = deliveries[1][1]
    root = world(processed, tmp_path, deliveries, d2)
    killed = ffp(root, "run", "--date", d2.isoformat(), FFP_TEST_KILL_AT="deliverables")
    assert killed.returncode == -signal.SIGKILL
    left = _runs(root)[-1]
    assert left.status == DagsterRunStatus.STARTED and left.tags["dagster/partition"] == d2.isoformat()
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--pending")
    assert status == 0, err[-3000:]
    assert f"run {left.run_id}" in err and "marked failed" in err
    assert ran(out) == [d2.isoformat()]
    runs = {r.run_id: r for r in _runs(root)}
    assert runs[left.run_id].status == DagsterRunStatus.FAILURE
    assert all(r.status != DagsterRunStatus.STARTED for r in runs.values())


def test_a_command_killed_on_its_second_date_keeps_the_first_and_pending_runs_the_second(
    processed, deliveries, tmp_path, monkeypatch, capsys
):
    """A command running several dates keeps the warehouse attached and checkpoints it only at its end
    (core/warehouse_file.py ``kept_open``): when the second date's ledger is killed, the first date's commits are in
    the write-ahead log, and the next attach replays them."""
    d2, d3 = deliveries[1][1], deliveries[1][2]
    root = world(processed, tmp_path, deliveries, d2, d3)
    killed = ffp(
        root, "run", "--pending", FFP_TEST_KILL_AT="ledger:2", PYTHONUNBUFFERED="1"
    )  # its lines before the kill
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert ran(killed.stdout) == [d2.isoformat()]
    with duckdb.connect(str(root / "wh" / "warehouse.duckdb"), read_only=True) as con:
        ledger_days = {r[0] for r in con.execute("SELECT processed_date FROM workflow_runs").fetchall()}
    assert d2 in ledger_days and d3 not in ledger_days
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--pending")
    assert status == 0, err[-3000:]
    assert ran(out) == [d3.isoformat()]


# ------------------------------------------------------------------------------- late files and earlier dates
def _late_claim(deliveries, day: date) -> tuple[str, list[list[str]]]:
    """A late medical-claims file for ``day``: one large hospital stay of a person from that day's claims."""
    source = sorted((deliveries[0] / day.isoformat()).glob("medical_claims_*.csv"))[0]
    rows = read_text_rows(source)
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    row = next(r for r in rows[1:] if re.fullmatch(r"\d{17}[\dX]", r[col["证件号码"]] or ""))[:]
    row[col["结算流水号"]], row[col["结算日期"]], row[col["就诊类型"]] = "JS-LATE-0001", day.isoformat(), "住院"
    for name, value in (
        ("医疗总费用(元)", "86000.00"),
        ("基本医保支付(元)", "20000.00"),
        ("大病保险支付(元)", "0.0"),
        ("医疗救助支付(元)", "0.0"),
        ("个人负担(元)", "66000.00"),
        ("其中合规自付(元)", "60000.00"),
    ):
        row[col[name]] = value
    return source.name.replace(".csv", "_late.csv"), [header, row]


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_a_late_file_is_picked_up_and_earlier_dates_recompute_forward(
    processed, deliveries, tmp_path, monkeypatch, capsys
):
    d2, d3 = deliveries[1][1:]
    name, rows = _late_claim(deliveries, d2)
    ref = world(processed, tmp_path / "ref", deliveries, d2, d3)  # the file came on time
    _write(ref / "landing" / d2.isoformat() / name, rows)
    assert _run_here(ref, monkeypatch, capsys, "run", "--pending")[0] == 0

    root = world(processed, tmp_path / "late", deliveries, d2, d3)
    assert ran(_run_here(root, monkeypatch, capsys, "run", "--pending")[1]) == [d2.isoformat(), d3.isoformat()]
    on_time = _tables(root), _candidates(root, d3)
    stale = [
        t
        for t in ("household_indicators", "rule_hits", "household_scores")
        if [r for r in on_time[0][t] if d3 in r] != [r for r in _tables(ref)[t] if d3 in r]
    ]
    assert stale and on_time[1] != _candidates(ref, d3)  # control: the late file changes the last day's results

    _write(root / "landing" / d2.isoformat() / name, rows)
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--pending")
    assert status == 0, err[-3000:]
    assert ran(out) == [d2.isoformat(), d3.isoformat()]
    assert name in out and "recomputing forward" in out
    assert re.search(rf"^\[2/2\] {d3} .*date 2 of 2: .* left$", out, re.MULTILINE)  # the progress line
    assert _tables(root) == _tables(ref)
    assert _candidates(root, d3) == _candidates(ref, d3)
    assert _pending(root, monkeypatch) == []

    (root / "landing" / d2.isoformat() / name).unlink()  # withdrawn: run the earlier date again by hand
    shutil.move(root / "landing" / d3.isoformat(), tmp_path / "held")
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--date", d2.isoformat())
    assert status == 1  # d3 would become an empty delivery
    assert d3.isoformat() in err and "落地文件夹已不存在" in err
    assert len(err.strip().splitlines()) == 1 and ran(out) == []
    shutil.move(tmp_path / "held", root / "landing" / d3.isoformat())
    status, out, err = _run_here(root, monkeypatch, capsys, "run", "--date", d2.isoformat())
    assert status == 0, err[-3000:]
    assert ran(out) == [d2.isoformat(), d3.isoformat()]
    assert _tables(root) == on_time[0] and _candidates(root, d3) == on_time[1]
    assert _pending(root, monkeypatch) == []


def test_a_landing_copied_without_its_file_times_is_not_run_again(processed, deliveries, tmp_path, monkeypatch):
    """A copy or restore of the landing directory that gives every file a new time leaves every date done: each file
    has the content its date ran on. A file whose content changed at the same size makes its date run again, even
    with the time this process saw it at."""
    root = world(processed, tmp_path, deliveries)
    folders = sorted(p for p in (root / "landing").iterdir() if p.is_dir())
    for path in (root / "landing").rglob("*"):
        if path.is_file():
            later = path.stat().st_mtime_ns + 3600 * 10**9
            os.utime(path, ns=(later, later))
    assert _pending(root, monkeypatch) == []

    changed = max(sorted(folders[0].iterdir()), key=lambda p: p.stat().st_size)
    data = bytearray(changed.read_bytes())
    at = next(i for i in range(len(data) - 1, 0, -1) if chr(data[i]).isdigit())
    data[at] = ord("1") if data[at] != ord("1") else ord("2")  # one digit: the same size, another content
    was = changed.stat().st_mtime_ns
    changed.write_bytes(bytes(data))
    os.utime(changed, ns=(was, was))  # and the time this process already read it at (cp -p, rsync -t)
    assert _pending(root, monkeypatch) == [date.fromisoformat(p.name) for p in folders]


# ------------------------------------------------------------------------------------- folder names and dates
def test_folders_not_named_by_a_real_date_are_reported_and_never_run(ffp_env, capsys):
    from fangfanpin.ingest.read import delivery_dates
    from fangfanpin.pipeline.cli import main

    landing = ffp_env / "landing"
    person = "15062519800101123X"  # a folder named after a person: its name is reported masked
    for name in ("20260917", "2026-02-30", "2026-9-18", person):
        (landing / name).mkdir()
        (landing / name / "roster_150625.csv").write_text("户编号\n", encoding="utf-8")
    (landing / ".partial").mkdir()
    assert delivery_dates(landing) == []
    assert main(["run", "--pending"]) == 2
    out, err = capsys.readouterr()
    assert out.strip() == "nothing pending"
    lines = err.strip().splitlines()
    assert len(lines) == 4 and all(any(n in line for line in lines) for n in ("20260917", "2026-02-30", "2026-9-18"))
    assert person not in err and "150625********123X" in err
    assert all("不是有效的交付日期" in line and "YYYY-MM-DD" in line for line in lines)
    with DagsterInstance.get() as instance:
        assert instance.get_runs() == []


def test_accept_makes_the_date_and_later_ones_pending(processed, deliveries, tmp_path, monkeypatch, capsys):
    from fangfanpin.pipeline.cli import main
    from fangfanpin.pipeline.launch import pending_plan

    d1 = deliveries[1][0]
    root = world(processed, tmp_path, deliveries)
    assert _pending(root, monkeypatch) == []
    assert main(["accept", "--date", d1.isoformat(), "--feed", "roster"]) == 0
    assert "run --pending" in capsys.readouterr().out
    with DagsterInstance.get() as instance:
        plan, _ = pending_plan(instance)
    assert plan.days == [d1] and "out of date" in plan.reasons[d1]


def test_the_overview_alone_only_reads_and_the_date_stays_done(processed, deliveries, tmp_path, monkeypatch):
    """An analyst materializes only the daily overview of a processed date (as from the UI): it reads the warehouse,
    so the date stays done with its run, and nothing becomes pending."""
    from dagster import materialize

    from fangfanpin.assets.overview import daily_overview_asset
    from fangfanpin.assets.resources import pipeline_resources

    d1 = deliveries[1][0]
    root = world(processed, tmp_path, deliveries)
    assert _pending(root, monkeypatch) == []  # and the environment points at the world
    wh = root / "wh" / "warehouse.duckdb"
    with duckdb.connect(str(wh), read_only=True) as con:
        before = con.execute("SELECT * FROM delivery_runs ORDER BY ALL").fetchall()
    with DagsterInstance.get() as instance:
        result = materialize(
            [daily_overview_asset], partition_key=d1.isoformat(), instance=instance, resources=pipeline_resources()
        )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.step_materialization_data.materialization.metadata["rows_loaded"].value > 0
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT * FROM delivery_runs ORDER BY ALL").fetchall() == before
    assert [r[2] for r in before] == ["done"] and _pending(root, monkeypatch) == []


def test_a_run_of_every_writing_asset_without_the_report_marks_the_date_done(
    processed, deliveries, tmp_path, monkeypatch
):
    """The overview only reads: a UI run of every other asset of the daily job is a whole run of the date."""
    from dagster import execute_job

    from fangfanpin.assets.overview import OVERVIEW_KEY
    from fangfanpin.pipeline.definitions import defs
    from fangfanpin.pipeline.job_runs import reconstructable_job

    d0 = deliveries[1][0]
    root = world(processed, tmp_path, deliveries)
    _pending(root, monkeypatch)
    job = defs.resolve_job_def("daily_job")
    writing = [k for k in job.asset_layer.selected_asset_keys if k != OVERVIEW_KEY]
    with DagsterInstance.get() as instance:
        result = execute_job(  # as the UI launches it: the job reconstructed from the code location
            reconstructable_job("daily_job"),
            instance,
            tags={"dagster/partition": d0.isoformat()},
            asset_selection=writing,
        )
    assert result.success
    with duckdb.connect(str(root / "wh" / "warehouse.duckdb"), read_only=True) as con:
        record = con.execute("SELECT status, run_id FROM delivery_runs WHERE delivery_date = ?", [d0]).fetchall()
    assert record == [("done", result.run_id)] and _pending(root, monkeypatch) == []


# ------------------------------------------------------------------------------------------- sensor and schedule
def _evaluate(root: Path, monkeypatch, automation):
    """The sensor's or the schedule's evaluation on ``root``'s instance: (run requests or SkipReason, partitions)."""
    from dagster import build_schedule_context, build_sensor_context

    from fangfanpin.assets.constants import DELIVERY_PARTITIONS
    from fangfanpin.pipeline.schedules import daily_schedule

    _pending(root, monkeypatch)  # the environment of root
    with DagsterInstance.get() as instance:
        if automation is daily_schedule:
            context = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 21, 5, 30))
        else:
            context = build_sensor_context(instance=instance)
        return automation(context), set(instance.get_dynamic_partitions(DELIVERY_PARTITIONS.name))


def test_sensor_and_schedule_start_what_run_pending_would_run(processed, deliveries, tmp_path, monkeypatch, capsys):
    from dagster import SkipReason, build_sensor_context

    from fangfanpin.pipeline.cli import main
    from fangfanpin.pipeline.definitions import defs
    from fangfanpin.pipeline.job_runs import remote_origin
    from fangfanpin.pipeline.schedules import daily_schedule
    from fangfanpin.pipeline.sensors import new_delivery_sensor

    d0, d1, _ = deliveries[1]
    root = world(processed, tmp_path, deliveries, d1)
    (root / "landing" / "2026-9-18").mkdir()
    for automation in (new_delivery_sensor, daily_schedule):
        requests, partitions = _evaluate(root, monkeypatch, automation)
        assert [r.partition_key for r in requests] == [d1.isoformat()], automation  # d0 is done
        assert partitions == {d0.isoformat(), d1.isoformat()}
    again, _ = _evaluate(root, monkeypatch, new_delivery_sensor)
    assert [r.run_key for r in again] == [r.run_key for r in requests]  # one state of the folder: one run key

    shutil.copy(
        next((root / "landing" / d0.isoformat()).glob("applications_*")),
        root / "landing" / d0.isoformat() / "applications_150699_late.csv",
    )
    late, _ = _evaluate(root, monkeypatch, new_delivery_sensor)
    assert [r.partition_key for r in late] == [d0.isoformat(), d1.isoformat()]
    assert late[0].run_key != requests[0].run_key

    with DagsterInstance.get() as instance:  # a run queued by the daemon: nothing else starts until it ends
        job = defs.resolve_job_def("daily_job")
        queued = instance.create_run_for_job(
            job,
            status=DagsterRunStatus.QUEUED,
            tags={"dagster/partition": d0.isoformat()},
            remote_job_origin=remote_origin("daily_job"),
        )
    waiting, _ = _evaluate(root, monkeypatch, new_delivery_sensor)
    assert isinstance(waiting, SkipReason) and "queued or running" in waiting.skip_message
    assert main(["run", "--pending"]) == 1  # the command is not a second writer either
    assert "queued or running" in capsys.readouterr().err
    with DagsterInstance.get() as instance:
        instance.report_run_canceled(instance.get_run_by_id(queued.run_id))

    with duckdb.connect(str(root / "wh" / "warehouse.duckdb")) as con:  # d0's last run failed
        con.execute("UPDATE delivery_runs SET status = 'started' WHERE delivery_date = ?", [d0])
    for automation in (new_delivery_sensor, daily_schedule):
        failed, _ = _evaluate(root, monkeypatch, automation)
        assert isinstance(failed, SkipReason) and "run --pending" in failed.skip_message, automation  # not in a loop
        assert "2026-9-18" in failed.skip_message  # the folder not named by a real date is reported, never run

    with duckdb.connect(str(root / "wh" / "warehouse.duckdb")) as con:  # a ledger older than the run records
        con.execute("DELETE FROM delivery_runs")
    with DagsterInstance.get() as instance:  # the daemon alone (the command's next start would add the records)
        legacy = new_delivery_sensor(build_sensor_context(instance=instance))
    assert isinstance(legacy, SkipReason) and "no run records yet" in legacy.skip_message  # not every date again


def test_a_policy_file_that_does_not_load_stops_the_command_with_one_line(ffp_env, monkeypatch, capsys):
    from fangfanpin.pipeline.cli import main

    bad = ffp_env / "policy.yaml"
    bad.write_text("ingest:\n  snapshot_shrink_ratio: 5\n", encoding="utf-8")
    monkeypatch.setenv("FFP_POLICY", str(bad))
    assert main(["run", "--pending"]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "snapshot_shrink_ratio" in err and "Traceback" not in err
