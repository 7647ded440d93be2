"""The ``fangfanpin`` command (docs/operations.md): generate, run, demo, accept, verify-ledger."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

from dagster import DagsterInstance

from fangfanpin.assets.delivery_runs import RunPlanError, UsageError, invalidate_from, parse_day, plan_from
from fangfanpin.config import DEMO_COUNTY
from fangfanpin.config.policy import PolicyError
from fangfanpin.config.regions import RegionsError
from fangfanpin.core.privacy import mask_text, restrict_umask
from fangfanpin.core.settings import settings
from fangfanpin.core.warehouse_file import WarehouseBusyError, connect
from fangfanpin.data_contracts import FEED_NAMES
from fangfanpin.deliverables.manifest import verify_manifests
from fangfanpin.generator import generate
from fangfanpin.ingest.warehouse import accept_delivery
from fangfanpin.pipeline.automation import landing_and_records
from fangfanpin.pipeline.dates import window
from fangfanpin.pipeline.launch import (
    EXIT_FAILED,
    EXIT_HELD,
    EXIT_OK,
    begin,
    kept_between_dates,
    pending_plan,
    prepare_environment,
    print_summary,
    run_day,
    run_plan,
    train_model,
)
from fangfanpin.pipeline.progress import Progress
from fangfanpin.schema import ensure_schema
from fangfanpin.workflow.chain import verify_chain
from fangfanpin.workflow.simulator import prepare_closed_loop, simulate_after_run

# The demo's window is fixed so that every demo, test and screenshot shows the same county history.
DEMO_END = date(2026, 11, 20)
DEMO_MONTHS = 12
DEMO_HOUSEHOLDS = 5_000
DEMO_LOOP_DAYS = 30  # the closed-loop period at the end of the demo window
DEMO_SEED = 20261120


DATE_HELP = "日期一律写作 YYYY-MM-DD（如 2026-11-20） / dates are written YYYY-MM-DD (e.g. 2026-11-20)"
EXIT_HELP = """退出状态 / exit status:
  0  全部运行完成，每份交付都已采用
     every run finished and every delivery was applied
  1  运行失败，或命令被拒绝（日期或参数无效、未知的数据集或区域、数据仓库正被另一进程占用等）
     a run failed, or the command was refused (a bad date or option, an unknown feed or region, the
     warehouse in use by another process …)
  2  运行完成，但有事需要操作员处理，每项一行（交付暂缓或被拒收、文件被拒收或未读取、当天没有任何交付、
     落地文件夹名不是有效日期）
     the runs finished, but something needs an operator, each on its own line (a delivery held or rejected,
     a file refused or not read, no feed delivered that day, a landing folder not named by a date)"""
OTHER_EXITS = """demo 除非运行失败都返回 0；accept、train、generate、verify-ledger 返回 0 或 1。详见 docs/operations.md
demo exits 0 unless a run fails; accept, train, generate and verify-ledger exit 0 or 1. In full: docs/operations.md"""
RUN_WHAT = """run the daily job through Dagster. With several dates, a line as each starts (date n of N, time elapsed
and left); at the end a summary per date, read from the warehouse (docs/operations.md)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option exits 1 like every refusal (2 means a delivery needs an operator), masked."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, mask_text(f"{self.prog}: error: {message}\n"))


def _households(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"应为正整数 / a positive whole number expected: {text!r}")
    return int(text)


def cmd_generate(args: argparse.Namespace) -> int:
    start, end = window(args.start, args.end)
    out = Path(args.out)
    truth = Path(args.truth) if args.truth else out.parent / f"{out.name}_truth"
    summary = generate(
        out,
        truth,
        counties=args.counties.split(","),
        households=args.households,
        start=start,
        end=end,
        seed=args.seed,
        daily_days=args.daily_days,
    )
    print(f"wrote {len(summary.deliveries)} deliveries to {out} (ground truth in {truth}) in {summary.seconds:.1f} s")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if args.region:  # before anything resolves a setting: the region's paths are the defaults from here on
        os.environ["FFP_REGION"] = args.region
    day = None if args.pending else parse_day(args.date)
    prepare_environment()
    with DagsterInstance.get() as instance:
        begin(instance)
        if args.pending:
            plan, notices = pending_plan(instance)
            for line in notices:
                print(mask_text(line), file=sys.stderr)
            if not plan.days:
                print("nothing pending")
            status = run_plan(instance, plan)
            return status if status == EXIT_FAILED else max(status, EXIT_HELD if notices else EXIT_OK)
        landing, _, records, run_ok = landing_and_records(instance)
        return run_plan(instance, plan_from(day, landing, records, run_ok))


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo county if absent, then run every delivery in order; over the last ``DEMO_LOOP_DAYS`` days a
    simulated field team answers each day's visit tasks, publications and decisions (a closed loop)."""
    prepare_environment()
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
        begin(instance)
        plan, notices = pending_plan(instance)
        for line in notices:
            print(mask_text(line), file=sys.stderr)
        progress, finished, status = Progress(len(plan.days)), [], EXIT_OK
        with kept_between_dates(len(plan.days)):
            while plan.days:  # planned again after each date: the simulator answers it
                day = plan.days[0]
                print(progress.starting(day, total=progress.done + len(plan.days)))
                if day >= loop_start and not trained:  # a year of history is in: train once, as the weekly job would
                    trained = train_model() == EXIT_OK
                status = run_day(instance, day, plan.reasons.get(day))
                progress.finished()
                if status == EXIT_FAILED:
                    break
                finished.append(day)
                if loop_start <= day < DEMO_END:
                    simulate_after_run(day, s.warehouse, s.landing_dir, truth, seed=DEMO_SEED)
                plan, _ = pending_plan(instance)
    print_summary(finished, progress)
    if status == EXIT_FAILED:
        return EXIT_FAILED
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
    prepare_environment()
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


def _command(sub, name: str, what: str, epilog: str, description: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=what,
        description=description or what,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="fangfanpin",
        description="防返贫动态监测数据管道 / the daily pipeline of 防返贫动态监测",
        epilog=f"{DATE_HELP}\n\n{EXIT_HELP}\n{OTHER_EXITS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    g = _command(sub, "generate", "write synthetic landing data to the feed spec", f"{DATE_HELP}\n{OTHER_EXITS}")
    g.add_argument("--out", required=True)
    g.add_argument("--truth", help="ground-truth folder (default: <out>_truth beside it)")
    g.add_argument("--counties", default=DEMO_COUNTY)
    g.add_argument("--households", type=_households, default=DEMO_HOUSEHOLDS)
    g.add_argument("--start", metavar="YYYY-MM-DD", default=(DEMO_END - timedelta(days=365)).isoformat())
    g.add_argument("--end", metavar="YYYY-MM-DD", default=DEMO_END.isoformat())
    g.add_argument("--seed", type=int, default=DEMO_SEED)
    g.add_argument("--daily-days", type=int, default=21)
    g.set_defaults(func=cmd_generate)
    r = _command(sub, "run", "run the daily job through Dagster", f"{DATE_HELP}\n\n{EXIT_HELP}", RUN_WHAT)
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
    d = _command(sub, "demo", "generate the demo county if absent and run every delivery date", OTHER_EXITS)
    d.add_argument("--households", type=_households, default=DEMO_HOUSEHOLDS)
    d.set_defaults(func=cmd_demo)
    t = _command(sub, "train", "train the risk model now (the weekly schedule does this in production)", OTHER_EXITS)
    t.set_defaults(func=cmd_train)
    a = _command(sub, "accept", "accept a delivery that a blocking check held", f"{DATE_HELP}\n{OTHER_EXITS}")
    a.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    a.add_argument("--feed", required=True, help="the feed's name, as in data_contracts/feeds/<feed>.yaml")
    a.set_defaults(func=cmd_accept)
    v = _command(
        sub,
        "verify-ledger",
        "recompute the case ledger's hash chain and report the first altered event; check its chain head per date "
        "against the manifests",
        OTHER_EXITS,
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
