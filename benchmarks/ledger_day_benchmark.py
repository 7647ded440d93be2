"""The case ledger's step of one date (``run_workflow``), side by side for two codes, on copies of a warehouse that
has processed that date (it is recomputed: its events deleted, then decided and written again).

    .venv/bin/python benchmarks/ledger_day_benchmark.py WAREHOUSE --date D [--code LABEL=PKGDIR ...] [--rounds 2]

For example the 1 M ordinary day's warehouse, benchmarks/out/daily/o1000000/warehouse.duckdb, and its second date.
A B A B in fresh processes pinned to two cores. Printed: wall and CPU seconds, the day's events, and a digest of
every ledger table (``ledger_dump``), which must not differ between the codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_MEASURE = """
import hashlib, shutil, sys, time
from datetime import date
from pathlib import Path
from fangfanpin.config.policy import load_policy
from fangfanpin.core.warehouse_file import connect
from fangfanpin.workflow import ledger_dump, run_workflow
source, out, day = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
shutil.copy(source, out)
con = connect(out)
con.execute("SET enable_progress_bar = false")
wall, cpu = time.perf_counter(), time.process_time()
result = run_workflow(con, day, load_policy())
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
digest = hashlib.sha256(repr(ledger_dump(con)).encode()).hexdigest()[:10]
con.close()
out.unlink()
print(f"{wall:.2f} {cpu:.2f} {result.events} {digest}")
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    import argparse

    from isolate import code_arguments, codes_of, pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--date", required=True)
    code_arguments(ap)
    args = ap.parse_args()
    copy = args.warehouse.with_name("ledger_day_copy.duckdb")
    print(f"the case ledger of {args.date} recomputed on copies of {args.warehouse}, 2 cores")
    print(f"{'code':>10} {'round':>5} {'wall s':>7} {'CPU s':>6} {'events':>7} {'digest':>10}")
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes_of(args):
            argv = [sys.executable, "-c", _MEASURE, str(args.warehouse), str(copy), args.date]
            wall, cpu, events, digest = run_with_code(pkgdir, argv, pin_two_cores).split()
            print(f"{label:>10} {round_:>5} {wall:>7} {cpu:>6} {events:>7} {digest:>10}", flush=True)


if __name__ == "__main__":
    main()
