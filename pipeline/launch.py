"""How the command runs delivery dates through Dagster: the local instance, one date, a plan of dates with its
progress lines, and the summary per date read from the warehouse afterwards (docs/operations.md)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from fangfanpin.assets.delivery_runs import Plan, plan_pending
from fangfanpin.assets.scoring import TRAINING_JOB_NAME
from fangfanpin.config.policy import load_policy
from fangfanpin.core.privacy import mask_text, private_dir
from fangfanpin.core.settings import settings
from fangfanpin.core.warehouse_file import WarehouseBusyError, connect, ensure_not_busy, kept_open
from fangfanpin.deliverables.render_pool import workers_kept
from fangfanpin.ingest.warehouse import delivery_problems
from fangfanpin.pipeline.automation import landing_and_records, runs_in_flight
from fangfanpin.pipeline.job_runs import execute_job_run
from fangfanpin.pipeline.jobs import DAILY_JOB_NAME, add_delivery_partition
from fangfanpin.pipeline.progress import Progress
from fangfanpin.pipeline.run_state import launcher_tags, mark_abandoned_runs
from fangfanpin.pipeline.run_summary import format_summary, resent_unchanged, summarize

EXIT_OK, EXIT_FAILED, EXIT_HELD = 0, 1, 2
INSTANCE_CONFIG_MARK = "# One run at a time: the DuckDB warehouse has a single writer."


def prepare_environment() -> None:
    """Resolve settings to absolute paths and give Dagster its local instance (``instance_config``)."""
    s = settings()
    for variable, path in (
        ("FFP_LANDING_DIR", s.landing_dir),
        ("FFP_OUTBOX_DIR", s.outbox_dir),
        ("FFP_WAREHOUSE", s.warehouse),
        ("FFP_MODEL_DIR", s.model_dir),
        ("DAGSTER_HOME", s.dagster_home),
    ):
        os.environ[variable] = str(path.resolve())
    home = private_dir(s.dagster_home.resolve())
    config = home / "dagster.yaml"
    current, wanted = (config.read_text(encoding="utf-8") if config.exists() else None), instance_config(home)
    # A file this command wrote is kept current (an older one lacks the event log); one written by hand is left alone.
    if current is None or (current.startswith(INSTANCE_CONFIG_MARK) and current != wanted):
        config.write_text(wanted, encoding="utf-8")


def instance_config(home: Path) -> str:
    """The local instance's dagster.yaml: runs queue one at a time; the event log keeps its SQLite files open
    (pipeline/event_log.py)."""
    return (
        f"{INSTANCE_CONFIG_MARK}\n"
        "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"
        "telemetry:\n  enabled: false\n"
        "event_log_storage:\n  module: fangfanpin.pipeline.event_log\n  class: PooledSqliteEventLogStorage\n"
        f"  config:\n    base_dir: {json.dumps(str(home / 'history' / 'runs'))}\n"
    )


# The terminal shows warnings and errors only (FFP_LOG_LEVEL to change); every step's events are in the instance (UI).
CONSOLE = {"loggers": {"console": {"config": {"log_level": os.environ.get("FFP_LOG_LEVEL", "WARNING")}}}}


def run_day(instance, day: date, reason: str | None = None) -> int:
    """Run the daily job for one delivery date through Dagster; return the exit status of docs/operations.md."""
    ensure_not_busy(settings().warehouse)  # a second writer fails here, before any step runs
    if reason:
        print(mask_text(f"{day}: {reason}"))
    add_delivery_partition(instance, day)
    run = execute_job_run(
        instance,
        DAILY_JOB_NAME,
        partition_key=day.isoformat(),
        run_config=CONSOLE,
        tags=settings().run_tags | launcher_tags(),
    )
    if run.status != DagsterRunStatus.SUCCESS:
        print(f"{day}: run {run.run_id} failed; see the Dagster UI (make ui) for the step that failed", file=sys.stderr)
        return EXIT_FAILED
    with connect(settings().warehouse, read_only=True) as con:
        problems = delivery_problems(con, day)
    for feed, status, message in problems:
        print(mask_text(f"{day}: {feed} {status}: {message}"))
    print(f"{day}: run {run.run_id} finished" + (f", {len(problems)} delivery problem(s)" if problems else ""))
    return EXIT_HELD if problems else EXIT_OK


def train_model() -> int:
    """Run the training job through Dagster (normally weekly, by schedule); a model is promoted only if it
    passes every check of the promotion gate (models/training.py) on its validation window."""
    prepare_environment()
    with DagsterInstance.get() as instance:
        run = execute_job_run(instance, TRAINING_JOB_NAME, run_config=CONSOLE, tags=launcher_tags())
    succeeded = run.status == DagsterRunStatus.SUCCESS
    print(f"training run {run.run_id} {'finished' if succeeded else 'failed'}")
    return EXIT_OK if succeeded else EXIT_FAILED


def begin(instance) -> None:
    """Before any run: the policy file loads (PolicyError names the key), no other process holds the warehouse, runs
    left STARTED by a killed command are failed, and no run of the daemon (sensor, schedule) or the UI is queued or
    running (the warehouse has one writer)."""
    load_policy()
    ensure_not_busy(settings().warehouse)
    for run in mark_abandoned_runs(instance):
        print(
            f"run {run.run_id} ({run.tags.get('dagster/partition', run.job_name)}) was left unfinished by a killed "
            "process: marked failed",
            file=sys.stderr,
        )
    if in_flight := runs_in_flight(instance):
        raise WarehouseBusyError(
            f"Dagster 实例中有 {in_flight} 个运行在排队或进行中（传感器、定时任务或界面启动的），请等它们结束后再运行；"
            f"可在界面的 Runs 页查看。 / {in_flight} run(s) started by the sensor, the schedule or the UI are queued or "
            "running in the Dagster instance: wait for them to finish (see Runs in the UI), then run again."
        )


def pending_plan(instance):
    """(what ``run --pending`` runs, in order, and why; one line per landing folder that is not run)."""
    landing, notices, records, run_ok = landing_and_records(instance)
    return plan_pending(landing, records, run_ok), notices


def print_summary(days: list[date], progress: Progress) -> None:
    """The summary per date of the dates that finished, read from the warehouse."""
    if not days:
        return
    with connect(settings().warehouse, read_only=True) as con:
        lines = format_summary(summarize(con, days), progress.elapsed()) + resent_unchanged(con, days)
    print("\n".join(["", *lines]))


@contextmanager
def kept_between_dates(dates: int) -> Iterator[None]:
    """What a command running several dates in one process starts once, not once a run: the render workers
    (deliverables/render_pool.py) and the warehouse's connection (core/warehouse_file.py ``kept_open``)."""
    with ExitStack() as kept:
        kept.enter_context(workers_kept(settings().render_workers if dates > 1 else 1))
        if dates > 1:
            kept.enter_context(kept_open(settings().warehouse))
        yield


def run_plan(instance, plan: Plan) -> int:
    """Run the plan's dates in order, stopping at the first that fails; with several dates a progress line as each
    starts; then the summary of the dates that finished. Returns the worst exit status."""
    if any(d in plan.reasons for d in plan.days[1:]):
        print(
            f"{plan.days[0]} 起按日期顺序重新计算 {len(plan.days)} 个交付日期（{plan.days[0]} … {plan.days[-1]}） / "
            f"recomputing forward from {plan.days[0]}: {len(plan.days)} delivery dates, in order"
        )
    progress, finished, worst = Progress(len(plan.days)), [], EXIT_OK
    with kept_between_dates(len(plan.days)):
        for day in plan.days:
            if progress.total > 1:
                print(progress.starting(day))
            status = run_day(instance, day, plan.reasons.get(day))
            progress.finished()
            if status == EXIT_FAILED:
                worst = EXIT_FAILED  # the dates after it are not run
                break
            finished.append(day)
            worst = max(worst, status)
    print_summary(finished, progress)
    return worst
