"""What a day's outputs read from the warehouse, side by side for two versions of the code: the queries the run's own
process makes for every county (the workbook's sheets, the task packs, the return templates, candidates.csv) while
its render workers write the files.

    .venv/bin/python benchmarks/county_reads_benchmark.py WAREHOUSE [--code LABEL=PKGDIR ...] [--rounds 2]

WAREHOUSE is a warehouse after a daily run (it is not changed: each process reads a copy). Each ``--code`` is a
folder holding a ``fangfanpin`` package (a ``git worktree`` of another commit, linked as PKGDIR/fangfanpin); without
one, this checkout is measured alone. A B A B in fresh processes pinned to two cores; printed: the day's temp tables
(``deliverables.data.prepare``), then the seconds of each kind of read summed over the counties, their total, the
counties, and a digest of every row read (equal digests: the codes read the same rows).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import hashlib, shutil, sys, time
from pathlib import Path
from fangfanpin.config.policy import load_policy
from fangfanpin.core.warehouse_file import connect
from fangfanpin.deliverables import data as D
from fangfanpin.deliverables.candidates import candidate_rows
from fangfanpin.deliverables.return_templates import due_templates
from fangfanpin.deliverables.task_packs import village_task_packs
from fangfanpin.deliverables.workbook import county_sheets

source, work = Path(sys.argv[1]), Path(sys.argv[2])
shutil.copy(source, work)
con = connect(work)
con.execute("SET enable_progress_bar = false")
day = con.execute("SELECT max(as_of_date) FROM household_scores").fetchall()[0][0]
policy = load_policy().as_of(day)
started = time.perf_counter()
D.prepare(con, day)
seconds = {"prepare": time.perf_counter() - started}
counties, model = D.counties(con, day), D.model_version(con, day)
reads = {
    "sheets": lambda c: [repr(rows) for _, _, rows in county_sheets(con, day, c, policy, model)],
    "packs": lambda c: [repr(p) for p in village_task_packs(con, day, c, policy)],
    "templates": lambda c: [repr(t) for t in due_templates(con, day, c)],
    "candidates": lambda c: [repr(candidate_rows(con, day, c, policy).rows())],
}
digest = hashlib.sha256()
for name, read in reads.items():
    spent = 0.0
    for county in counties:
        started = time.perf_counter()
        texts = read(county)
        spent += time.perf_counter() - started
        for text in texts:
            digest.update(text.encode())
    seconds[name] = spent
con.close()
work.unlink()
print(" ".join(f"{s:.2f}" for s in seconds.values()), f"{sum(seconds.values()):.2f}", len(counties), digest.hexdigest()[:16])
"""

COLUMNS = ("prepare", "sheets", "packs", "templates", "candidates", "total")


def main() -> None:
    sys.path.insert(0, str(HERE))
    from isolate import code_arguments, codes_of, pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    code_arguments(ap)
    ap.add_argument("--workdir", type=Path, default=HERE / "out" / "county_reads")
    args = ap.parse_args()

    codes = codes_of(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"the reads of the newest date's outputs in {args.warehouse}, in seconds summed over the counties, 2 cores")
    print(f"{'code':>10} {'round':>5} " + " ".join(f"{c:>10}" for c in COLUMNS) + f" {'counties':>8} {'digest':>16}")
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes:
            argv = [sys.executable, "-c", _CHILD, str(args.warehouse), str(args.workdir / f"{label}.duckdb")]
            *figures, counties, digest = run_with_code(pkgdir, argv, pin_two_cores).split()
            cells = " ".join(f"{f:>10}" for f in figures)
            print(f"{label:>10} {round_:>5} {cells} {counties:>8} {digest:>16}", flush=True)
    print("(digest: every row read, as Python shows it; equal digests mean the codes read the same rows)")


if __name__ == "__main__":
    main()
