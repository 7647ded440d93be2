"""The Dagster side of the run bookkeeping: who launched a run, runs left STARTED by a killed process, how runs ended.

The command runs the daily job in its own process (``job_runs.execute_job_run``); a process killed by SIGKILL cannot
report its run as failed, so the run would stay STARTED in the instance forever. Every run the command launches
carries the launching process's PID and start time (``launcher_tags``); before the next run starts, after
``ensure_not_busy`` showed that no process holds the warehouse, ``mark_abandoned_runs`` reports each such run whose
process is gone as failed. Runs launched by the daemon (sensor, schedule) or the UI carry no such tag: Dagster's own
run monitoring is the place for those.
"""

from __future__ import annotations

import os

import psutil
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

PID_TAG, PID_STARTED_TAG = "ffp/pid", "ffp/pid_started"
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def _started(pid: int) -> str:
    return f"{psutil.Process(pid).create_time():.2f}"


def launcher_tags() -> dict[str, str]:
    """Tags naming this process (a PID alone could since belong to another process)."""
    return {PID_TAG: str(os.getpid()), PID_STARTED_TAG: _started(os.getpid())}


def _alive(run: DagsterRun) -> bool:
    pid = int(run.tags[PID_TAG])
    try:
        return _started(pid) == run.tags.get(PID_STARTED_TAG)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def mark_abandoned_runs(instance: DagsterInstance) -> list[DagsterRun]:
    """Report as failed every unfinished run launched by a command whose process no longer exists."""
    abandoned = [
        r.dagster_run
        for r in instance.get_run_records(RunsFilter(statuses=UNFINISHED))
        if PID_TAG in r.dagster_run.tags and not _alive(r.dagster_run)
    ]
    for run in abandoned:
        pid = run.tags[PID_TAG]
        instance.report_run_failed(
            run,
            message=(
                f"启动此运行的进程（进程号 {pid}）已不存在（被终止或崩溃），运行标记为失败。 / The process that ran this run "
                f"(PID {pid}) is gone (killed or crashed); the run is marked failed."
            ),
        )
    return abandoned


def run_succeeded(instance: DagsterInstance, run_ids: list[str]) -> dict[str, bool]:
    """run id → whether it succeeded, for the runs the instance knows."""
    if not run_ids:
        return {}
    records = instance.get_run_records(RunsFilter(run_ids=run_ids))
    return {r.dagster_run.run_id: r.dagster_run.status == DagsterRunStatus.SUCCESS for r in records}
