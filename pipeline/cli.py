"""The ``fangfanpin`` command (operations.md): generate, run, demo, accept, verify-ledger."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from config import DEMO_COUNTY
from config.regions import RegionsError
from ingest.privacy import private_dir, restrict_umask
from pipeline.warehouse_file import WarehouseBusyError, connect, ensure_not_busy

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
    from pipeline.settings import settings

    s = settings()
    for variable, path in (("FFP_LANDING_DIR", s.landing_dir), ("FFP_OUTBOX_DIR", s.outbox_dir),
                           ("FFP_WAREHOUSE", s.warehouse), ("FFP_MODEL_DIR", s.model_dir), ("DAGSTER_HOME", s.dagster_home)):
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
    return (f"{INSTANCE_CONFIG_MARK}\n"
            "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"
            "telemetry:\n  enabled: false\n"
            "event_log_storage:\n  module: pipeline.event_log\n  class: PooledSqliteEventLogStorage\n"
            f"  config:\n    base_dir: {json.dumps(str(home / 'history' / 'runs'))}\n")


# The terminal shows warnings and errors only (FFP_LOG_LEVEL to change); every step's events are in the instance (UI).
CONSOLE = {"loggers": {"console": {"config": {"log_level": os.environ.get("FFP_LOG_LEVEL", "WARNING")}}}}


def run_date(day: date) -> int:
    """Run the daily job for one delivery date through Dagster; return the exit status of operations.md."""
    from dagster import DagsterInstance

    from ingest.warehouse import held_or_rejected
    from pipeline.definitions import defs
    from pipeline.jobs import DAILY_JOB_NAME
    from pipeline.settings import settings

    _prepare_environment()
    ensure_not_busy(settings().warehouse)  # a second writer fails here, before any step runs
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
            partition_key=day.isoformat(), instance=instance, raise_on_error=False, run_config=CONSOLE,
            tags=settings().run_tags)
    if not result.success:
        print(f"{day}: run {result.run_id} failed; see the Dagster UI (dagster dev) for the step that failed", file=sys.stderr)
        return EXIT_FAILED
    with connect(settings().warehouse, read_only=True) as con:
        problems = held_or_rejected(con, day)
    for feed, status, message in problems:
        print(f"{day}: {feed} {status}: {message}")
    print(f"{day}: run {result.run_id} finished" + (f", {len(problems)} delivery(ies) held or rejected" if problems else ""))
    return EXIT_HELD if problems else EXIT_OK


def train_model() -> int:
    """Run the training job through Dagster (normally weekly, by schedule); a model is promoted only if it beats
    the rules on its validation window."""
    from dagster import DagsterInstance

    from assets.scoring import TRAINING_JOB_NAME
    from pipeline.definitions import defs

    _prepare_environment()
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def(TRAINING_JOB_NAME).execute_in_process(instance=instance, raise_on_error=False,
                                                                            run_config=CONSOLE)
    print(f"training run {result.run_id} {'finished' if result.success else 'failed'}")
    return EXIT_OK if result.success else EXIT_FAILED


def pending_dates() -> list[date]:
    from ingest.read import delivery_dates
    from pipeline.settings import settings

    s = settings()
    done: set[date] = set()
    if s.warehouse.exists():
        with connect(s.warehouse, read_only=True) as con:
            if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'deliveries'").fetchall()[0][0]:
                done = {r[0] for r in con.execute("SELECT DISTINCT delivery_date FROM deliveries").fetchall()}
    return [d for d in delivery_dates(s.landing_dir) if d not in done]


def run_many(days: list[date]) -> int:
    worst = EXIT_OK
    for day in days:
        status = run_date(day)
        if status == EXIT_FAILED:
            return EXIT_FAILED
        worst = max(worst, status)
    return worst


def cmd_generate(args: argparse.Namespace) -> int:
    from generator import generate

    out = Path(args.out)
    truth = Path(args.truth) if args.truth else out.parent / f"{out.name}_truth"
    summary = generate(out, truth, counties=args.counties.split(","), households=args.households,
                       start=date.fromisoformat(args.start), end=date.fromisoformat(args.end), seed=args.seed,
                       daily_days=args.daily_days)
    print(f"wrote {len(summary.deliveries)} deliveries to {out} (ground truth in {truth}) in {summary.seconds:.1f} s")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if args.region:  # before anything resolves a setting: the region's paths are the defaults from here on
        os.environ["FFP_REGION"] = args.region
    _prepare_environment()
    if args.pending:
        days = pending_dates()
        if not days:
            print("nothing pending")
            return EXIT_OK
        return run_many(days)
    return run_date(date.fromisoformat(args.date))


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo county if absent, then run every delivery in order; over the last ``DEMO_LOOP_DAYS`` days a
    simulated field team answers each day's visit tasks, publications and decisions (a closed loop)."""
    from generator import generate
    from pipeline.settings import settings
    from workflow.simulator import prepare_closed_loop, simulate_after_run

    _prepare_environment()
    s = settings()
    truth = s.landing_dir.parent / "ground_truth"
    loop_start = DEMO_END - timedelta(days=DEMO_LOOP_DAYS - 1)
    if not s.landing_dir.exists() or not any(s.landing_dir.iterdir()):
        start = DEMO_END - timedelta(days=round(DEMO_MONTHS * 30.44))
        print(f"generating the demo county {DEMO_COUNTY} ({args.households:,} households, {start} .. {DEMO_END}) into {s.landing_dir}")
        summary = generate(s.landing_dir, truth, counties=[DEMO_COUNTY], households=args.households, start=start,
                           end=DEMO_END, seed=DEMO_SEED, daily_days=DEMO_LOOP_DAYS)
        prepare_closed_loop(s.landing_dir, [d for d in summary.deliveries if d >= loop_start])
    worst = EXIT_OK
    trained = any(s.model_dir.glob("*/card.json"))
    while days := pending_dates():  # the simulator adds the next day's folder after each run
        day = days[0]
        if day >= loop_start and not trained:  # a year of history is in: train once, as the weekly job would
            trained = train_model() == EXIT_OK
        status = run_date(day)
        if status == EXIT_FAILED:
            return EXIT_FAILED
        worst = max(worst, status)
        if loop_start <= day < DEMO_END:
            simulate_after_run(day, s.warehouse, s.landing_dir, truth, seed=DEMO_SEED)
    workbooks = sorted(s.outbox_dir.glob("*/*/*_防返贫监测工作清单_*.xlsx"))
    if workbooks:
        print(f"latest county workbook: {workbooks[-1]}")
    print(f"warehouse: {s.warehouse}\nDagster instance: {s.dagster_home} (open the UI with: make ui)")
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    return train_model()


def cmd_accept(args: argparse.Namespace) -> int:
    from ingest.warehouse import accept_delivery, ensure_schema
    from pipeline.settings import settings

    _prepare_environment()
    with connect(settings().warehouse) as con:
        ensure_schema(con)
        released = accept_delivery(con, args.feed, date.fromisoformat(args.date))
    print(f"{args.feed} {args.date}: {released} county snapshot(s) accepted; re-run later dates to use them")
    return EXIT_OK


def cmd_verify_ledger(args: argparse.Namespace) -> int:
    """Recompute the case ledger's hash chain, then compare its chain head per date with the manifests (the outbox's,
    or ``--manifests DIR``: the copies the counties hold); exit 0 if both agree, 1 naming the first problem."""
    from deliverables.manifest import verify_manifests
    from pipeline.settings import settings
    from workflow.chain import verify_chain

    path = settings().warehouse
    if not path.exists():
        print(f"数据仓库文件不存在：{path} / The warehouse file does not exist: {path}", file=sys.stderr)
        return EXIT_FAILED
    manifests = Path(args.manifests) if args.manifests else settings().outbox_dir
    if args.manifests and not manifests.is_dir():
        print(f"交付清单目录不存在：{manifests} / The manifests folder does not exist: {manifests}", file=sys.stderr)
        return EXIT_FAILED
    with connect(path, read_only=True) as con:
        if not con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'case_events' "
                           "AND column_name = 'event_hash'").fetchall()[0][0]:
            print("案件台账尚未建立或尚未加上哈希链（运行一次 fangfanpin run 即可）。 / The case ledger has no hash chain "
                  "yet (run fangfanpin run once).", file=sys.stderr)
            return EXIT_FAILED
        report = verify_chain(con)
        against = verify_manifests(con, manifests) if report.intact and manifests.is_dir() else None
    print(report.message(), file=sys.stdout if report.intact else sys.stderr)
    if not report.intact:
        return EXIT_FAILED
    if against is None or not against.found:
        print(f"{manifests} 下没有 manifest.json，未与交付清单核对。 / No manifest.json under {manifests}: not checked "
              f"against the manifests.", file=sys.stderr if args.manifests else sys.stdout)
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
    which.add_argument("--date")
    which.add_argument("--pending", action="store_true")
    r.add_argument("--region", help="a region of config/regions.yaml: its own landing, warehouse, outbox and instance "
                                    "under var/regions/<region>/ (FFP_REGION does the same)")
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("demo", help="generate the demo county if absent and run every delivery date")
    d.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS)
    d.set_defaults(func=cmd_demo)
    t = sub.add_parser("train", help="train the risk model now (the weekly schedule does this in production)")
    t.set_defaults(func=cmd_train)
    a = sub.add_parser("accept", help="accept a delivery that a blocking check held")
    a.add_argument("--date", required=True)
    a.add_argument("--feed", required=True)
    a.set_defaults(func=cmd_accept)
    v = sub.add_parser("verify-ledger", help="recompute the case ledger's hash chain and report the first altered event; "
                                             "check its chain head per date against the manifests")
    v.add_argument("--manifests", help="a folder of manifest.json files to check against, e.g. the copies a county "
                                       "holds (default: the outbox, FFP_OUTBOX_DIR)")
    v.set_defaults(func=cmd_verify_ledger)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restrict_umask()  # personal data: everything this command creates is readable by its owner only
    try:
        return args.func(args)
    except (WarehouseBusyError, RegionsError) as error:  # a clear message, not a traceback
        print(error, file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
