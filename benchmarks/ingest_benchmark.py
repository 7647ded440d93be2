"""Benchmark: one full delivery's ingest for N households across several counties (not a test; prints figures).

    .venv/bin/python benchmarks/ingest_benchmark.py --households 1000000

Generates one delivery date (skipped when the folder already holds it), then ingests every feed of that date in a
fresh process so that peak memory (ru_maxrss) is the ingest's own. Targets: under 60 s wall and under
4 GB peak on a 2-core machine for 1,000,000 households.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from isolate import run_isolated  # noqa: E402

COUNTIES = ["150625", "152201", "140431", "411402", "411403", "411421", "411422", "411423"]
DAY = date(2026, 10, 31)


def generate(root: Path, households: int) -> float:
    from fangfanpin.generator import MessyRates
    from fangfanpin.generator import generate as make

    started = time.perf_counter()
    make(
        root / "landing",
        root / "truth",
        counties=COUNTIES,
        households=households,
        start=DAY,
        end=DAY,
        seed=1,
        messy=MessyRates(),
        daily_days=0,
    )
    return time.perf_counter() - started


def ingest_all(root: Path) -> dict:
    import fangfanpin.pipeline  # noqa: F401  first, as in the pipeline: its allocator setting must precede polars
    from fangfanpin.core.warehouse_file import connect
    from fangfanpin.data_contracts import FEED_NAMES, load_contract
    from fangfanpin.ingest import ingest_feed

    warehouse = root / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    timings, rows = {}, {}
    started = time.perf_counter()
    with connect(warehouse) as con:  # the pipeline's own connection (memory limit, row group size)
        for feed in ["roster"] + [f for f in FEED_NAMES if f != "roster"]:
            t = time.perf_counter()
            outcome = ingest_feed(con, load_contract(feed), root / "landing", DAY)
            timings[feed] = round(time.perf_counter() - t, 2)
            rows[feed] = outcome.prepared.rows_read
            assert outcome.prepared.reconciles, feed
            del outcome  # as in the pipeline, where each feed's step drops its frames on return (not during the next)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(total, 1), "peak_mb": round(peak_mb), "per_feed_seconds": timings, "rows_read": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--root", default="benchmarks/out")
    parser.add_argument("--ingest-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = Path(args.root) / f"h{args.households}"
    if args.ingest_only:
        print(json.dumps(ingest_all(root)))
        return
    if not (root / "landing" / DAY.isoformat()).exists():
        started = time.perf_counter()
        run_isolated(generate, root, args.households)  # the generator's peak must not count as the ingest's
        seconds = time.perf_counter() - started
        print(f"generated {args.households:,} households in {seconds:.1f} s")
    out = subprocess.run(
        [sys.executable, __file__, "--households", str(args.households), "--root", args.root, "--ingest-only"],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    total_rows = sum(result["rows_read"].values())
    print(
        f"ingest of one delivery, {args.households:,} households, {total_rows:,} rows: "
        f"{result['seconds']} s wall, {result['peak_mb']:,} MB peak, {total_rows / result['seconds']:,.0f} rows/s"
    )
    for feed, seconds in sorted(result["per_feed_seconds"].items(), key=lambda kv: -kv[1]):
        print(f"  {feed:20s} {seconds:6.2f} s  {result['rows_read'][feed]:>10,} rows")


if __name__ == "__main__":
    main()
