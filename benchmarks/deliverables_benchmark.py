"""A day's deliverables, side by side for two versions of the code: time, CPU and whether every file is the same.

    .venv/bin/python benchmarks/deliverables_benchmark.py WAREHOUSE [--code LABEL=PKGDIR ...] [--rounds 2] [--workers 2]

WAREHOUSE is a warehouse after a daily run, e.g. daily_run_benchmark.py's <workdir>/h1000000/warehouse.duckdb (it is
not changed). Each ``--code`` is a folder holding a ``fangfanpin`` package (a ``git worktree`` of another commit,
linked as PKGDIR/fangfanpin); without one, this checkout is measured alone.

A B A B in fresh processes pinned to two cores: the warehouse copied, its newest date's outbox written
(``write_county_outputs`` with ``--workers`` render processes), as the daily run's deliverables step writes it.
Printed: wall seconds, CPU seconds of the process and its render workers, files written, and a digest of every
file but the manifests (which carry the run's time); equal digests mean the codes wrote the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# run in the measuring process; the render workers are spawned, so the work sits under __main__
_CHILD = """
import hashlib, os, resource, shutil, sys, time
from pathlib import Path
from fangfanpin.config.policy import load_policy
from fangfanpin.core.warehouse_file import connect
from fangfanpin.deliverables import write_county_outputs

def main():
    source, work, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(source, work / "warehouse.duckdb")
    con = connect(work / "warehouse.duckdb")
    con.execute("SET enable_progress_bar = false")
    day = con.execute("SELECT max(as_of_date) FROM household_scores").fetchall()[0][0]
    wall = time.perf_counter()
    paths = write_county_outputs(con, day, work / "outbox", load_policy(), run_id="benchmark", render_workers=workers)
    wall = time.perf_counter() - wall
    con.close()
    cpu = sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
    digest = hashlib.sha256()
    for path in sorted(p for p in (work / "outbox").rglob("*") if p.is_file() and p.name != "manifest.json"):
        digest.update(str(path.relative_to(work / "outbox")).encode() + path.read_bytes())
    shutil.rmtree(work)
    print(f"{wall:.1f} {cpu:.1f} {len(paths)} {digest.hexdigest()[:16]}")

if __name__ == "__main__":
    main()
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    from isolate import code_arguments, codes_of, pin_two_cores, run_with_code

    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    code_arguments(ap)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=HERE / "out" / "deliverables")
    args = ap.parse_args()

    codes = codes_of(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    child = args.workdir / "child.py"
    child.write_text(_CHILD, encoding="utf-8")
    print(f"deliverables of the newest date in {args.warehouse}, {args.workers} render workers, 2 cores")
    print(f"{'code':>10} {'round':>5} {'wall s':>7} {'CPU s':>6} {'files':>6} {'digest':>16}")
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes:
            argv = [sys.executable, str(child), str(args.warehouse), str(args.workdir / label), str(args.workers)]
            wall, cpu, files, digest = run_with_code(pkgdir, argv, pin_two_cores).split()
            print(f"{label:>10} {round_:>5} {wall:>7} {cpu:>6} {files:>6} {digest:>16}", flush=True)
    print("(wall: write_county_outputs alone; CPU: the process and its render workers, the copy included;")
    print(" digest: every file written but the manifests)")


if __name__ == "__main__":
    main()
