"""The ingest checks' Great Expectations work on one date's snapshots, side by side for two codes: each snapshot's
structure suite on the columns its check reads, and the delivery files' fingerprints.

    .venv/bin/python benchmarks/checks_benchmark.py WAREHOUSE LANDING --date D [--code LABEL=PKGDIR ...] [--rounds 2]

For example the 1 M first date: benchmarks/out/daily/o1000000/after_first/warehouse.duckdb (read only),
benchmarks/out/daily/o1000000/landing and 2026-11-20. A B A B in fresh processes pinned to two cores. Printed: the
seconds of each snapshot's validation (the rows read before the clock starts) and of hashing every feed's files,
and a digest of the validation results and of the fingerprints taken with the code's own digest held equal, which
must not differ between the codes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_MEASURE = """
import hashlib, sys, time
from datetime import date
from pathlib import Path
import duckdb
from fangfanpin.assets.ingest.checks import checked_columns
from fangfanpin.config.policy import load_policy
from fangfanpin.data_contracts import all_contracts
from fangfanpin.data_contracts.gx_suites import structure_suite, validate
from fangfanpin.ingest import known_counties
from fangfanpin.ingest import unchanged
from fangfanpin.ingest.read import find_feed_files
warehouse, landing, day = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
con = duckdb.connect(str(warehouse), read_only=True)
snapshots = [c for c in all_contracts() if c.kind == "snapshot"]
validate(con.sql(f"SELECT * FROM {snapshots[0].feed}_delivery(?::DATE) LIMIT 10", params=[day]).pl(), structure_suite(snapshots[0]))
seconds, results = {}, []
for contract in snapshots:
    sql = f"SELECT {checked_columns(contract)} FROM {contract.feed}_delivery(?::DATE)"
    rows = con.sql(sql, params=[day]).pl()
    start = time.perf_counter()
    results.append(validate(rows, structure_suite(contract)).to_dict())
    seconds[contract.feed] = time.perf_counter() - start
unchanged._code_digest = lambda: "the same for both codes"
limits = load_policy().as_of(day).file_limits
start = time.perf_counter()
fingerprints = [
    unchanged.delivery_fingerprint(c, find_feed_files(landing, day, c.feed), limits, known_counties())
    for c in all_contracts()
]
hashing = time.perf_counter() - start
digest = hashlib.sha256(repr((results, fingerprints)).encode()).hexdigest()[:10]
print(f"{sum(seconds.values()):.2f} {hashing:.2f} {digest} " + " ".join(f"{f}={s:.2f}" for f, s in seconds.items()))
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    from isolate import code_arguments, codes_of, pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("landing", type=Path)
    ap.add_argument("--date", required=True)
    code_arguments(ap)
    args = ap.parse_args()
    print(f"the structure suites of {args.date}'s snapshots and its files' fingerprints, {args.warehouse}, 2 cores")
    print(f"{'code':>10} {'round':>5} {'GX s':>6} {'hash s':>6} {'digest':>10}  per snapshot (s)")
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes_of(args):
            argv = [sys.executable, "-c", _MEASURE, str(args.warehouse), str(args.landing), args.date]
            gx, hashing, digest, *per_feed = run_with_code(pkgdir, argv, pin_two_cores).split()
            print(f"{label:>10} {round_:>5} {gx:>6} {hashing:>6} {digest:>10}  {' '.join(per_feed)}", flush=True)


if __name__ == "__main__":
    main()
