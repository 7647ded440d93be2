"""The ordinary day's ingest, side by side for two versions of the code: what a re-sent snapshot costs in time and in
warehouse size.

    .venv/bin/python benchmarks/ordinary_ingest_benchmark.py WORK [--code LABEL=PKGDIR ...] [--rounds 2]

WORK is a folder of the ordinary-day benchmark (``daily_run_benchmark.py --only-ordinary-day``), e.g.
<workdir>/o1000000, whose landing holds the first date and the next; set its next date with ``--variant`` (default
unchanged: every snapshot re-sent byte for byte). Each ``--code`` is a folder holding a ``fangfanpin`` package (a
``git worktree`` of another commit, linked as PKGDIR/fangfanpin); without one, this checkout is measured alone.

For each code, once: every feed of the first date ingested into an empty warehouse (the roster first, as the
pipeline's assets order it) and kept. Then, A B A B in fresh processes: that warehouse copied, every feed of the next
date ingested into it, one CHECKPOINT. Printed: wall and CPU seconds of the next date, the warehouse's size before and
after, and how many snapshots were recognised as re-sent unchanged. No cross-check, scoring or Dagster: the ingest
alone, so that the two codes differ only where it differs. The warehouse is opened as the pipeline opens it
(core/warehouse_file.py: its row group size; opened at DuckDB's default, a checkpoint merges row groups of every table).
"""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent

# run in the measuring process: ingest the first date once (kept), then the next date into a copy
_CHILD = """
import os, shutil, sys, time
from datetime import date
from pathlib import Path
from fangfanpin.core.warehouse_file import connect
from fangfanpin.data_contracts import all_contracts
from fangfanpin.ingest import ingest_feed

landing, first, day, out = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3]), Path(sys.argv[4])
kept = out.with_name(out.name + ".first")
feeds = sorted(all_contracts(), key=lambda c: c.feed != "roster")
if not kept.exists():
    con = connect(kept)
    con.execute("SET enable_progress_bar = false")
    for contract in feeds:
        ingest_feed(con, contract, landing, first)
    con.execute("CHECKPOINT")
    con.close()
shutil.copy(kept, out)
con = connect(out)
con.execute("SET enable_progress_bar = false")
wall, cpu = time.perf_counter(), time.process_time()
same = sum(ingest_feed(con, c, landing, day).prepared.same_as is not None for c in feeds)
con.execute("CHECKPOINT")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
con.close()
print(f"{wall:.1f} {cpu:.1f} {kept.stat().st_size / 1e6:.0f} {out.stat().st_size / 1e6:.0f} {same}")
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    import daily_run_benchmark as bench
    import ordinary_day
    from isolate import codes_of, pin_two_cores, run_with_code

    args = ordinary_day.ab_arguments()

    changed = ordinary_day.set_second_day(args.work, bench.DAY, args.variant)
    codes = codes_of(args)
    out = args.work / "ordinary_ingest"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    day = bench.DAY + timedelta(days=1)
    print(f"ingest of {day} after {bench.DAY}, {args.variant} ({changed:,} snapshot rows changed), 2 cores")
    print(f"{'code':>10} {'round':>5} {'wall s':>7} {'CPU s':>6} {'MB before':>9} {'MB after':>8} {'re-sent':>7}")
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes:
            argv = [sys.executable, "-c", _CHILD, str(args.work / "landing"), bench.DAY.isoformat(), day.isoformat(),
                    str(out / f"{label}.duckdb")]  # fmt: skip
            wall, cpu, before, after, same = run_with_code(pkgdir, argv, pin_two_cores).split()
            print(f"{label:>10} {round_:>5} {wall:>7} {cpu:>6} {before:>9} {after:>8} {same:>7}", flush=True)
    print("(wall and CPU: the next date's ingest and one CHECKPOINT; MB: the warehouse after the first date, and")
    print(" after the next; re-sent: snapshots recognised as re-sent unchanged, not read again)")


if __name__ == "__main__":
    main()
