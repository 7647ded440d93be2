"""The ordinary day's whole run, side by side for two versions of the code.

    .venv/bin/python benchmarks/ordinary_day_ab.py WORK [--code LABEL=PKGDIR ...] [--variant unchanged] [--rounds 2]

WORK is a folder of the ordinary-day benchmark (``daily_run_benchmark.py --only-ordinary-day``), e.g.
<workdir>/o1000000: its after_first/ keeps the warehouse, Dagster instance and outbox as the first date left them.
Each ``--code`` is a folder holding a ``fangfanpin`` package (a ``git worktree`` of another commit, linked as
PKGDIR/fangfanpin); without one, this checkout is measured alone.

A B A B: before each run that state is put back, then the second date is run as ``fangfanpin run --date`` in a fresh
process pinned to two cores, the code chosen by PYTHONPATH. Printed: each stage's seconds (from the run's own
Dagster instance), the run's and the process's seconds, and the process's peak RSS.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    sys.path.insert(0, str(HERE))
    import daily_run_benchmark as bench
    import ordinary_day
    from isolate import codes_of
    from stage_table import STAGES, stage_cells, stage_header

    args = ordinary_day.ab_arguments()

    work = args.work.resolve()
    changed = ordinary_day.set_second_day(work, bench.DAY, args.variant)
    day = bench.DAY + timedelta(days=1)
    codes = codes_of(args)
    stages = [*STAGES, "dagster"]
    print(f"the run of {day} after {bench.DAY}, {args.variant} ({changed:,} snapshot rows changed), 2 cores")
    print(f"{'code':>10} {'round':>5} " + stage_header(stages))
    for round_ in range(1, args.rounds + 1):
        for label, pkgdir in codes:
            ordinary_day.restore_state(work)
            run = bench.run_daily(work, work.parent / "models", day, fresh=False, pkgdir=pkgdir)
            if run["exit"] not in bench.EXIT_FINISHED:
                raise SystemExit(f"{label} failed:\n{run['stderr']}")
            result = run | bench.stage_times(work)
            print(f"{label:>10} {round_:>5} " + stage_cells(result, stages), flush=True)
    print("(seconds of each stage's steps, read from the run's Dagster instance; dagster: the run's time outside them)")


if __name__ == "__main__":
    main()
