"""Whether a day costs more as medical settlements pile up: the ordinary day's claims ingest and the cross-check, on
the first date's warehouse and on copies of it given months of earlier settlements, side by side for two codes.

    .venv/bin/python benchmarks/claims_history_benchmark.py WORK [--months 0,24] [--older-than DAYS]
                                                            [--code LABEL=PKGDIR ...] [--rounds 2]

WORK is a folder of the ordinary-day benchmark (``daily_run_benchmark.py --only-ordinary-day``), e.g.
<workdir>/o1000000: its ``after_first/warehouse.duckdb`` holds the first date, its landing the next date's files.
For each ``--months`` N, a copy of that warehouse is given N earlier monthly batches of settlements: the first
date's settlements again, month k's with new settlement numbers and their settlement and delivery dates
``--older-than`` + k × 30 days earlier (a batch is what a first delivery holds, about a year of a province's
settlements; with ``--older-than 365`` every added settlement lies outside the medical windows). Then, A B A B in
fresh processes pinned to two cores, on a copy each time: (a) the medical claims of the next date ingested, (b) the
cross-check of the first date. Printed: wall and CPU seconds of each, and a digest of what each wrote (the day's
stored rows and ingest reports; every cross-check output table); the script fails when the codes' digests differ.
"""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent

_BUILD = """
import shutil, sys
from pathlib import Path
from fangfanpin.core.warehouse_file import connect
first, out, months, older = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
shutil.copy(first, out)
con = connect(out)
for k in range(1, months + 1):
    con.execute(
        '''INSERT INTO medical_claims SELECT * REPLACE (
               settlement_id || '-m' || $k::VARCHAR AS settlement_id,
               original_settlement_id || '-m' || $k::VARCHAR AS original_settlement_id,
               settlement_date - ($older + 30 * $k)::INT AS settlement_date,
               _delivery_date - ($older + 30 * $k)::INT AS _delivery_date)
           FROM medical_claims WHERE _delivery_date = $d::DATE''', {"k": k, "d": sys.argv[4], "older": older})
con.execute("CHECKPOINT")
print(con.execute("SELECT count(*) FROM medical_claims").fetchall()[0][0])
"""

_MEASURE = """
import hashlib, shutil, sys, time
from datetime import date
from pathlib import Path
from fangfanpin.core.warehouse_file import connect
from fangfanpin.crosscheck import OUTPUT_TABLES, run_crosscheck
from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
source, out, landing, first, day, step = sys.argv[1:7]
first, day = date.fromisoformat(first), date.fromisoformat(day)
shutil.copy(source, out)
con = connect(Path(out))
con.execute("SET enable_progress_bar = false")
digest = hashlib.sha256()
wall, cpu = time.perf_counter(), time.process_time()
if step == "ingest":
    ingest_feed(con, load_contract("medical_claims"), Path(landing), day)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for table, dated in (("medical_claims", "_delivery_date"), ("ingest_reports", "delivery_date")):
        digest.update(repr(con.execute(
            f"SELECT count(*), sum(hash(columns(*))) FROM {table} WHERE {dated} = ?"
            + (" AND feed = 'medical_claims'" if table == "ingest_reports" else ""), [day]).fetchall()).encode())
else:
    run_crosscheck(con, first)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for table in OUTPUT_TABLES:
        dated = con.execute(f"SELECT * FROM {table} LIMIT 0").description[0][0]
        digest.update(repr(con.execute(
            f"SELECT count(*), sum(hash(columns(*))) FROM {table} WHERE {dated} = ?", [first]).fetchall()).encode())
con.close()
Path(out).unlink()
print(f"{wall:.2f} {cpu:.1f} {digest.hexdigest()[:10]}")
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    import argparse

    import daily_run_benchmark as bench
    from isolate import code_arguments, codes_of, pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    ap.add_argument("--months", default="0,24", help="earlier monthly batches of settlements, comma-separated")
    ap.add_argument(
        "--older-than", type=int, default=0, help="days before the first batch's month (365: outside the windows)"
    )
    code_arguments(ap)
    args = ap.parse_args()

    first_warehouse = args.work / "after_first" / "warehouse.duckdb"
    out = args.work / "claims_history"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    day = bench.DAY + timedelta(days=1)
    print(
        f"medical claims of {day} ingested, and the cross-check of {bench.DAY}, on {first_warehouse}, 2 cores;"
        f" batches {args.older_than} + 30 k days earlier"
    )
    print(f"{'months':>6} {'settlements':>11} {'code':>10} {'round':>5} {'ingest s':>8} {'CPU':>5} {'digest':>10} "
          f"{'cross-check s':>13} {'CPU':>5} {'digest':>10}")  # fmt: skip
    for months in (int(m) for m in args.months.split(",")):
        grown = out / f"m{months}.duckdb"
        argv = [sys.executable, "-c", _BUILD, str(first_warehouse), str(grown), str(months), bench.DAY.isoformat(),
                str(args.older_than)]  # fmt: skip
        digests = set()
        settlements = int(run_with_code("", argv).split()[-1])
        for round_ in range(1, args.rounds + 1):
            for label, pkgdir in codes_of(args):
                figures = []
                for step in ("ingest", "crosscheck"):
                    argv = [sys.executable, "-c", _MEASURE, str(grown), str(out / f"{label}.duckdb"),
                            str(args.work / "landing"), bench.DAY.isoformat(), day.isoformat(), step]  # fmt: skip
                    figures += run_with_code(pkgdir, argv, pin_two_cores).split()
                i_wall, i_cpu, i_digest, c_wall, c_cpu, c_digest = figures
                digests.add((i_digest, c_digest))
                print(f"{months:>6} {settlements:>11,} {label:>10} {round_:>5} {i_wall:>8} {i_cpu:>5} {i_digest:>10} "
                      f"{c_wall:>13} {c_cpu:>5} {c_digest:>10}", flush=True)  # fmt: skip
        grown.unlink()
        if len(digests) > 1:
            raise SystemExit(f"the codes wrote different results with {months} months: {sorted(digests)}")


if __name__ == "__main__":
    main()
