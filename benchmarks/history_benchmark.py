"""Does a day's outputs cost grow with the warehouse's history? A county runs daily: after a year its per-date
tables hold 365 dates, and a day's outputs should read only the dates they show.

    .venv/bin/python benchmarks/history_benchmark.py WAREHOUSE [--dates 30] [--workers 2] [--workdir DIR]

WAREHOUSE is a warehouse after one delivery date, e.g. daily_run_benchmark.py's <workdir>/h1000000/warehouse.duckdb
(it is not changed). Two copies are made in DIR, their per-date tables (household_scores, rule_hits,
household_indicators, case_status_daily) written again alike: one as it is, one with ``--dates`` earlier dates before
its oldest (copies of the newest date's rows), as a county that ran that long holds; the tables the scoring keeps
beside household_scores are filled from them.
Then the newest date's deliverables (``write_county_outputs`` with ``--workers`` render processes, in a fresh process
each) are written from each copy, A B A B. Printed: wall seconds and the main process's CPU seconds. The workers'
rendering does not depend on history; equal CPU seconds in the main process mean the day read none of it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from isolate import run_isolated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

import duckdb  # noqa: E402

from fangfanpin.config.policy import load_policy  # noqa: E402
from fangfanpin.deliverables import write_county_outputs  # noqa: E402
from fangfanpin.schema import ensure_schema, keep_scored_day  # noqa: E402

PER_DATE_TABLES = ("household_scores", "rule_hits", "household_indicators", "case_status_daily")


def with_history(warehouse: Path, dates: int) -> None:
    """Give ``warehouse`` ``dates`` earlier dates before its oldest: the newest date's rows again on each."""
    con = duckdb.connect(str(warehouse))
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    oldest, day = con.execute("SELECT min(as_of_date), max(as_of_date) FROM household_scores").fetchall()[0]
    for table in PER_DATE_TABLES:
        columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        shifted = ", ".join("$oldest - k::INTEGER" if c == "as_of_date" else c for c in columns)
        con.execute(f"CREATE TEMP TABLE newest AS SELECT * FROM {table}")
        con.execute(f"DELETE FROM {table}")
        # the earliest first, as a daily run appends them
        con.execute(
            f"INSERT INTO {table} SELECT {shifted} FROM (SELECT * FROM newest WHERE as_of_date = $d), "
            "range(1, $n + 1) r(k) ORDER BY k DESC",
            {"d": day, "oldest": oldest, "n": dates},
        )
        con.execute(f"INSERT INTO {table} SELECT * FROM newest")
        con.execute("DROP TABLE newest")
    keep_scored_day(con, date.min)  # the tables kept beside the scores, from the whole history
    con.execute("CHECKPOINT")
    con.close()


def write_outputs(warehouse: Path, outbox: Path, workers: int, label: str) -> None:
    shutil.rmtree(outbox, ignore_errors=True)
    con = duckdb.connect(str(warehouse))
    con.execute("SET enable_progress_bar = false")
    day = con.execute("SELECT max(as_of_date) FROM household_scores").fetchall()[0][0]
    wall, cpu = time.perf_counter(), time.process_time()
    paths = write_county_outputs(con, day, outbox, load_policy(), run_id="history-benchmark", render_workers=workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:>22} {len(paths):>7,} {wall:>9.1f} {cpu:>16.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--dates", type=int, default=30, help="earlier dates to add (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="render processes (default 2)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "history")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    longer = f"+{args.dates} earlier dates"
    copies = {"newest date only": args.workdir / "one_date.duckdb", longer: args.workdir / "history.duckdb"}
    for copy in copies.values():
        shutil.copy(args.warehouse, copy)
    print(f"adding {args.dates} earlier dates …", flush=True)
    for copy, dates in zip(copies.values(), (0, args.dates)):  # both written again alike: only the dates differ
        run_isolated(with_history, copy, dates)
    print(f"{'warehouse':>22} {'files':>7} {'wall s':>9} {'main CPU s':>16}")
    for _ in range(2):
        for label, copy in copies.items():
            run_isolated(write_outputs, copy, args.workdir / "outbox", args.workers, label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
