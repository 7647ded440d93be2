"""The ``fangfanpin`` command (operations.md): generate, run, demo, accept."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from config import DEMO_COUNTY

# The demo's window is fixed so that every demo, test and screenshot shows the same county history.
DEMO_END = date(2026, 11, 20)
DEMO_MONTHS = 12
DEMO_HOUSEHOLDS = 5_000
DEMO_LOOP_DAYS = 30  # the closed-loop period at the end of the demo window
DEMO_SEED = 20261120

EXIT_OK, EXIT_FAILED, EXIT_HELD = 0, 1, 2


def _prepare_environment() -> None:
    """Resolve settings to absolute paths and give Dagster an instance that queues one run at a time."""
    from pipeline.settings import settings

    s = settings()
    for variable, path in (("FFP_LANDING_DIR", s.landing_dir), ("FFP_OUTBOX_DIR", s.outbox_dir),
                           ("FFP_WAREHOUSE", s.warehouse), ("FFP_MODEL_DIR", s.model_dir), ("DAGSTER_HOME", s.dagster_home)):
        os.environ[variable] = str(path.resolve())
    home = s.dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# One run at a time: the DuckDB warehouse has a single writer.\n"
            "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"
            "telemetry:\n  enabled: false\n", encoding="utf-8")


def run_date(day: date) -> int:
    """Run the daily job for one delivery date through Dagster; return the exit status of operations.md."""
    from dagster import DagsterInstance

    from ingest.warehouse import held_or_rejected
    from pipeline.definitions import defs
    from pipeline.jobs import DAILY_JOB_NAME
    from pipeline.settings import settings

    _prepare_environment()
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
            partition_key=day.isoformat(), instance=instance, raise_on_error=False)
    if not result.success:
        print(f"{day}: run {result.run_id} failed; see the Dagster UI (dagster dev) for the step that failed", file=sys.stderr)
        return EXIT_FAILED
    import duckdb

    with duckdb.connect(str(settings().warehouse), read_only=True) as con:
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
        result = defs.resolve_job_def(TRAINING_JOB_NAME).execute_in_process(instance=instance, raise_on_error=False)
    print(f"training run {result.run_id} {'finished' if result.success else 'failed'}")
    return EXIT_OK if result.success else EXIT_FAILED


def pending_dates() -> list[date]:
    import duckdb

    from ingest.read import delivery_dates
    from pipeline.settings import settings

    s = settings()
    done: set[date] = set()
    if s.warehouse.exists():
        with duckdb.connect(str(s.warehouse), read_only=True) as con:
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
    import duckdb

    from ingest.warehouse import accept_delivery, ensure_schema
    from pipeline.settings import settings

    _prepare_environment()
    with duckdb.connect(str(settings().warehouse)) as con:
        ensure_schema(con)
        released = accept_delivery(con, args.feed, date.fromisoformat(args.date))
    print(f"{args.feed} {args.date}: {released} county snapshot(s) accepted; re-run later dates to use them")
    return EXIT_OK


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
