"""What the sensor and the schedule start: exactly what ``fangfanpin run --pending`` would run, in date order
(assets/delivery_runs.py), so the daemon and the command agree on which dates are done.

Nothing is started while a run of the daily job is queued or in progress (whoever launched it): the warehouse has one
writer, and the next evaluation after the run plans again from what it recorded. A date whose last run failed or was
killed is not started again automatically (a failing run would be retried every minute): the evaluation says so, and
the operator retries with ``fangfanpin run --pending`` or from the UI. Run keys name the date, its folder's listing
and the run it replaces, so one state of the landing folder is requested once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

import duckdb
from dagster import DagsterInstance, DagsterRunStatus, RunRequest, RunsFilter, SkipReason

from fangfanpin.assets.delivery_runs import (
    DONE,
    STARTED,
    Record,
    RunPlanError,
    plan_pending,
    read_records,
    scan_landing,
)
from fangfanpin.assets.delivery_runs import prepare as prepare_runs
from fangfanpin.core.settings import settings
from fangfanpin.core.warehouse_file import WarehouseBusyError, connect
from fangfanpin.pipeline.jobs import add_delivery_partition
from fangfanpin.pipeline.run_state import mark_abandoned_runs, run_succeeded

IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
RETRY_HINT = "请运行 fangfanpin run --pending 或在界面中重新运行 / retry with fangfanpin run --pending or from the UI"


@dataclass
class Pending:
    requests: list[RunRequest] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # why nothing, or something, is not started (masked)


def _digest(files: list) -> str:
    return hashlib.sha256(json.dumps(files, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


def runs_in_flight(instance: DagsterInstance) -> int:
    """Runs of any job queued or in progress (every job of this project writes to the warehouse or reads it)."""
    return len(instance.get_run_ids(RunsFilter(statuses=IN_FLIGHT), limit=100))


def read_records_read_only() -> dict[date, Record]:
    """Every date's record, from a read-only connection (the daemon never writes to the warehouse). A warehouse whose
    ledger ran before the records were kept has none yet: RunPlanError, until the command's next start adds them."""
    path = settings().warehouse
    if not path.exists():
        return {}
    with connect(path, read_only=True) as con:
        try:
            records = read_records(con)
        except duckdb.CatalogException:  # no run has written to this warehouse yet
            return {}
        if not records and con.execute("SELECT count(*) FROM workflow_runs").fetchall()[0][0]:
            raise RunPlanError(
                "数据仓库还没有各交付日期的运行记录，请先运行一次 fangfanpin run --pending / the warehouse has no run "
                "records yet: run fangfanpin run --pending once"
            )
    return records


def landing_and_records(instance: DagsterInstance, *, read_only: bool = False):
    """(runnable landing dates → files, notices about other folders, delivery records, run id → succeeded). The
    command's connection may write (``prepare`` keeps the records' table current); the daemon's only reads."""
    s = settings()
    if read_only:
        records = read_records_read_only()
    elif s.warehouse.exists():
        with connect(s.warehouse) as con:  # the command is the one writer here (launch.begin made sure)
            prepare_runs(con)
            records = read_records(con)
    else:
        records = {}
    landing, notices = scan_landing(s.landing_dir, records)
    run_ok = run_succeeded(instance, [r.run_id for r in records.values() if r.status == DONE and r.run_id])
    return landing, notices, records, run_ok


def pending_runs(instance: DagsterInstance, tags: dict[str, str]) -> Pending:
    """The run requests for every pending landing date, oldest first; the partitions they need are added."""
    result = Pending()
    for run in mark_abandoned_runs(instance):
        result.notices.append(
            f"运行 {run.run_id} 的进程已不存在，标记为失败 / run {run.run_id}: its process is gone, marked failed"
        )
    if in_flight := runs_in_flight(instance):
        result.notices.append(
            f"有 {in_flight} 个运行在排队或进行中，结束后再检查 / {in_flight} run(s) queued or running"
        )
        return result
    try:
        landing, notices, records, run_ok = landing_and_records(instance, read_only=True)
        result.notices.extend(notices)
        plan = plan_pending(landing, records, run_ok)
    except (WarehouseBusyError, RunPlanError) as error:
        result.notices.append(str(error))
        return result
    if not plan.days:
        result.notices.append("没有待处理的交付日期 / no delivery date is pending")
        return result
    first = records.get(plan.days[0])
    if first is not None and (first.status == STARTED or not run_ok.get(first.run_id or "", True)):
        result.notices.append(f"{plan.days[0]}: {plan.reasons[plan.days[0]]}; {RETRY_HINT}")
        return result
    for day in plan.days:
        add_delivery_partition(instance, day)
        replaces = records[day].run_id if day in records and records[day].run_id else "new"
        result.requests.append(
            RunRequest(
                run_key=f"delivery-{day}-{_digest(landing[day])}-{replaces}",
                partition_key=day.isoformat(),
                tags=tags,
            )
        )
    return result


def evaluate(context) -> list[RunRequest] | SkipReason:
    """A sensor's or a schedule's evaluation: the pending runs, or why there are none (each notice in its log)."""
    pending = pending_runs(context.instance, settings().run_tags)
    for line in pending.notices:
        context.log.info(line)
    return pending.requests or SkipReason("\n".join(pending.notices))
