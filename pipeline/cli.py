"""The ``fangfanpin`` command (docs/operations.md): generate, run, demo, accept, verify-ledger."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from dagster import DagsterInstance

from fangfanpin.assets.delivery_runs import (
    DONE,
    RunPlanError,
    UsageError,
    invalidate_from,
    parse_day,
    plan_from,
    plan_pending,
    read_records,
    scan_landing,
)
from fangfanpin.assets.delivery_runs import prepare as prepare_runs
from fangfanpin.assets.scoring import TRAINING_JOB_NAME
from fangfanpin.config import DEMO_COUNTY
from fangfanpin.config.policy import PolicyError, load_policy
from fangfanpin.config.regions import RegionsError
from fangfanpin.core.privacy import mask_text, private_dir, restrict_umask
from fangfanpin.core.settings import settings
from fangfanpin.core.warehouse_file import WarehouseBusyError, connect, ensure_not_busy
from fangfanpin.data_contracts import FEED_NAMES
from fangfanpin.deliverables.manifest import verify_manifests
from fangfanpin.generator import generate
from fangfanpin.ingest.warehouse import accept_delivery, delivery_problems
from fangfanpin.pipeline.definitions import defs
from fangfanpin.pipeline.jobs import DAILY_JOB_NAME
from fangfanpin.pipeline.run_state import launcher_tags, mark_abandoned_runs, run_succeeded
from fangfanpin.schema import ensure_schema
from fangfanpin.workflow.chain import verify_chain
from fangfanpin.workflow.simulator import prepare_closed_loop, simulate_after_run

# The demo's window is fixed so that every demo, test and screenshot shows the same county history.
DEMO_END = date(2026, 11, 20)
DEMO_MONTHS = 12
DEMO_HOUSEHOLDS = 5_000
DEMO_LOOP_DAYS = 30  # the closed-loop period at the end of the demo window
DEMO_SEED = 20261120

EXIT_OK, EXIT_FAILED, EXIT_HELD = 0, 1, 2
INSTANCE_CONFIG_MARK = "# One run at a time: the DuckDB warehouse has a single writer."


def _prepare_environment() -> None:
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


def _run_day(instance, day: date, reason: str | None = None) -> int:
    """Run the daily job for one delivery date through Dagster; return the exit status of docs/operations.md."""
    ensure_not_busy(settings().warehouse)  # a second writer fails here, before any step runs
    if reason:
        print(mask_text(f"{day}: {reason}"))
    result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
        partition_key=day.isoformat(),
        instance=instance,
        raise_on_error=False,
        run_config=CONSOLE,
        tags=settings().run_tags | launcher_tags(),
    )
    if not result.success:
        print(
            f"{day}: run {result.run_id} failed; see the Dagster UI (dagster dev) for the step that failed",
            file=sys.stderr,
        )
        return EXIT_FAILED
    with connect(settings().warehouse, read_only=True) as con:
        problems = delivery_problems(con, day)
    for feed, status, message in problems:
        print(mask_text(f"{day}: {feed} {status}: {message}"))
    print(f"{day}: run {result.run_id} finished" + (f", {len(problems)} delivery problem(s)" if problems else ""))
    return EXIT_HELD if problems else EXIT_OK


def train_model() -> int:
    """Run the training job through Dagster (normally weekly, by schedule); a model is promoted only if it beats
    the rules on its validation window."""
    _prepare_environment()
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def(TRAINING_JOB_NAME).execute_in_process(
            instance=instance, raise_on_error=False, run_config=CONSOLE, tags=launcher_tags()
        )
    print(f"training run {result.run_id} {'finished' if result.success else 'failed'}")
    return EXIT_OK if result.success else EXIT_FAILED


def _begin(instance) -> None:
    """Before any run: the policy file loads (PolicyError names the key), no other process holds the warehouse, and
    runs left STARTED by a killed command are failed."""
    load_policy()
    ensure_not_busy(settings().warehouse)
    for run in mark_abandoned_runs(instance):
        print(
            f"run {run.run_id} ({run.tags.get('dagster/partition', run.job_name)}) was left unfinished by a killed "
            "process: marked failed",
            file=sys.stderr,
        )


def _landing_and_records(instance):
    """(runnable landing dates → files, notices about other folders, delivery records, run id → succeeded)."""
    s = settings()
    landing, notices = scan_landing(s.landing_dir)
    records = {}
    if s.warehouse.exists():
        with connect(s.warehouse) as con:  # the command is the one writer here (_begin made sure)
            prepare_runs(con)
            records = read_records(con)
    run_ok = run_succeeded(instance, [r.run_id for r in records.values() if r.status == DONE and r.run_id])
    return landing, notices, records, run_ok


def pending_plan(instance):
    """(what ``run --pending`` runs, in order, and why; one line per landing folder that is not run)."""
    landing, notices, records, run_ok = _landing_and_records(instance)
    return plan_pending(landing, records, run_ok), notices


def run_plan(instance, plan) -> int:
    if any(d in plan.reasons for d in plan.days[1:]):
        print(
            f"{plan.days[0]} 起按日期顺序重新计算 {len(plan.days)} 个交付日期（{plan.days[0]} … {plan.days[-1]}） / "
            f"recomputing forward from {plan.days[0]}: {len(plan.days)} delivery dates, in order"
        )
    worst = EXIT_OK
    for day in plan.days:
        status = _run_day(instance, day, plan.reasons.get(day))
        if status == EXIT_FAILED:
            return EXIT_FAILED
        worst = max(worst, status)
    return worst


def cmd_generate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    truth = Path(args.truth) if args.truth else out.parent / f"{out.name}_truth"
    summary = generate(
        out,
        truth,
        counties=args.counties.split(","),
        households=args.households,
        start=date.fromisoformat(args.start),
        end=date.fromisoformat(args.end),
        seed=args.seed,
        daily_days=args.daily_days,
    )
    print(f"wrote {len(summary.deliveries)} deliveries to {out} (ground truth in {truth}) in {summary.seconds:.1f} s")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if args.region:  # before anything resolves a setting: the region's paths are the defaults from here on
        os.environ["FFP_REGION"] = args.region
    day = None if args.pending else parse_day(args.date)
    _prepare_environment()
    with DagsterInstance.get() as instance:
        _begin(instance)
        if args.pending:
            plan, notices = pending_plan(instance)
            for line in notices:
                print(mask_text(line), file=sys.stderr)
            if not plan.days:
                print("nothing pending")
            return max(run_plan(instance, plan), EXIT_HELD if notices else EXIT_OK)
        landing, _, records, run_ok = _landing_and_records(instance)
        return run_plan(instance, plan_from(day, landing, records, run_ok))


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo county if absent, then run every delivery in order; over the last ``DEMO_LOOP_DAYS`` days a
    simulated field team answers each day's visit tasks, publications and decisions (a closed loop)."""
    _prepare_environment()
    s = settings()
    truth = s.landing_dir.parent / "ground_truth"
    loop_start = DEMO_END - timedelta(days=DEMO_LOOP_DAYS - 1)
    if not s.landing_dir.exists() or not any(s.landing_dir.iterdir()):
        start = DEMO_END - timedelta(days=round(DEMO_MONTHS * 30.44))
        print(
            f"generating the demo county {DEMO_COUNTY} ({args.households:,} households, {start} .. {DEMO_END}) into {s.landing_dir}"
        )
        summary = generate(
            s.landing_dir,
            truth,
            counties=[DEMO_COUNTY],
            households=args.households,
            start=start,
            end=DEMO_END,
            seed=DEMO_SEED,
            daily_days=DEMO_LOOP_DAYS,
        )
        prepare_closed_loop(s.landing_dir, [d for d in summary.deliveries if d >= loop_start])
    trained = any(s.model_dir.glob("*/card.json"))
    with DagsterInstance.get() as instance:
        _begin(instance)
        plan, notices = pending_plan(instance)
        for line in notices:
            print(mask_text(line), file=sys.stderr)
        while plan.days:  # the simulator adds the next day's folder after each run
            day = plan.days[0]
            if day >= loop_start and not trained:  # a year of history is in: train once, as the weekly job would
                trained = train_model() == EXIT_OK
            status = _run_day(instance, day, plan.reasons.get(day))
            if status == EXIT_FAILED:
                return EXIT_FAILED
            if loop_start <= day < DEMO_END:
                simulate_after_run(day, s.warehouse, s.landing_dir, truth, seed=DEMO_SEED)
            plan, _ = pending_plan(instance)
    workbooks = sorted(s.outbox_dir.glob("*/*/*_防返贫监测工作清单_*.xlsx"))
    if workbooks:
        print(f"latest county workbook: {workbooks[-1]}")
    print(f"warehouse: {s.warehouse}\nDagster instance: {s.dagster_home} (open the UI with: make ui)")
    return EXIT_OK  # the demo's county holds deliveries on purpose: each is printed, and `make demo` still succeeds


def cmd_train(args: argparse.Namespace) -> int:
    return train_model()


def cmd_accept(args: argparse.Namespace) -> int:
    day = parse_day(args.date)
    if args.feed not in FEED_NAMES:
        raise UsageError(
            f"没有名为 {args.feed!r} 的数据集，可用：{', '.join(FEED_NAMES)} / unknown feed {args.feed!r}; "
            f"the feeds are: {', '.join(FEED_NAMES)}"
        )
    _prepare_environment()
    with connect(settings().warehouse) as con:
        ensure_schema(con)
        released = accept_delivery(con, args.feed, day)
        invalidate_from(con, day)  # the accepted snapshot changes this date and every later one
    print(
        f"{args.feed} {day}: {released} county snapshot(s) accepted; run `fangfanpin run --pending` to recompute "
        f"from {day}"
    )
    return EXIT_OK


def cmd_verify_ledger(args: argparse.Namespace) -> int:
    """Recompute the case ledger's hash chain, then compare its chain head per date with the manifests (the outbox's,
    or ``--manifests DIR``: the copies the counties hold); exit 0 if both agree, 1 naming the first problem."""
    path = settings().warehouse
    if not path.exists():
        print(f"数据仓库文件不存在：{path} / The warehouse file does not exist: {path}", file=sys.stderr)
        return EXIT_FAILED
    manifests = Path(args.manifests) if args.manifests else settings().outbox_dir
    if args.manifests and not manifests.is_dir():
        print(f"交付清单目录不存在：{manifests} / The manifests folder does not exist: {manifests}", file=sys.stderr)
        return EXIT_FAILED
    with connect(path, read_only=True) as con:
        if not con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'case_events' "
            "AND column_name = 'event_hash'"
        ).fetchall()[0][0]:
            print(
                "案件台账尚未建立或尚未加上哈希链（运行一次 fangfanpin run 即可）。 / The case ledger has no hash chain "
                "yet (run fangfanpin run once).",
                file=sys.stderr,
            )
            return EXIT_FAILED
        report = verify_chain(con)
        against = verify_manifests(con, manifests) if report.intact and manifests.is_dir() else None
    print(report.message(), file=sys.stdout if report.intact else sys.stderr)
    if not report.intact:
        return EXIT_FAILED
    if against is None or not against.found:
        print(
            f"{manifests} 下没有 manifest.json，未与交付清单核对。 / No manifest.json under {manifests}: not checked "
            f"against the manifests.",
            file=sys.stderr if args.manifests else sys.stdout,
        )
        return EXIT_FAILED if args.manifests else EXIT_OK  # a folder named on purpose must hold manifests
    print(against.message(), file=sys.stdout if against.ok else sys.stderr)
    return EXIT_OK if against.ok else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fangfanpin", description="防返贫动态监测数据管道")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write synthetic landing data to the feed spec")
    g.add_argument("--out", required=True)
    g.add_argument("--truth", help="ground-truth folder (default: <out>_truth beside it)")
    g.add_argument("--counties", default=DEMO_COUNTY)
    g.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS)
    g.add_argument("--start", default=(DEMO_END - timedelta(days=365)).isoformat())
    g.add_argument("--end", default=DEMO_END.isoformat())
    g.add_argument("--seed", type=int, default=DEMO_SEED)
    g.add_argument("--daily-days", type=int, default=21)
    g.set_defaults(func=cmd_generate)
    r = sub.add_parser("run", help="run the daily job through Dagster")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="the delivery date to run (a real date, not after today); if later dates were already "
        "processed, they are recomputed after it, in order",
    )
    which.add_argument(
        "--pending",
        action="store_true",
        help="every delivery date not done yet (new, failed, or with files that arrived late), and "
        "every date after the first of them, oldest first",
    )
    r.add_argument(
        "--region",
        help="a region of config/regions.yaml: its own landing, warehouse, outbox and instance "
        "under var/regions/<region>/ (FFP_REGION does the same)",
    )
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("demo", help="generate the demo county if absent and run every delivery date")
    d.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS)
    d.set_defaults(func=cmd_demo)
    t = sub.add_parser("train", help="train the risk model now (the weekly schedule does this in production)")
    t.set_defaults(func=cmd_train)
    a = sub.add_parser("accept", help="accept a delivery that a blocking check held")
    a.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    a.add_argument("--feed", required=True, help="the feed's name, as in data_contracts/feeds/<feed>.yaml")
    a.set_defaults(func=cmd_accept)
    v = sub.add_parser(
        "verify-ledger",
        help="recompute the case ledger's hash chain and report the first altered event; "
        "check its chain head per date against the manifests",
    )
    v.add_argument(
        "--manifests",
        help="a folder of manifest.json files to check against, e.g. the copies a county "
        "holds (default: the outbox, FFP_OUTBOX_DIR)",
    )
    v.set_defaults(func=cmd_verify_ledger)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restrict_umask()  # personal data: everything this command creates is readable by its owner only
    try:
        return args.func(args)
    except (
        WarehouseBusyError,
        RegionsError,
        RunPlanError,
        UsageError,
        PolicyError,
    ) as error:  # a message, not a traceback
        print(mask_text(str(error)), file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
