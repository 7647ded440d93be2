"""How many village task packs of a date differ from the day before in more than the working days left they count.

    .venv/bin/python benchmarks/pack_changes.py WAREHOUSE --before 2026-11-20 --day 2026-11-21

WAREHOUSE holds both dates' ledger and scores (e.g. <workdir>/o1000000/warehouse.duckdb of ``daily_run_benchmark.py
--only-ordinary-day`` after its 1 % day: what the last code run there left); it is opened read-only. Each date's
packs are read as the deliverables read them (``deliverables.task_packs.village_task_packs``), each task as its card
prints it (ID number, phone, texts and village name masked). Printed: the villages with a pack on the day, those
whose cards are the same but for the working days left (a pack that only a reprint policy could skip), and what
differs in the others. It answers whether printing only the packs that changed would save the deliverables' time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date
from pathlib import Path

from fangfanpin.config.policy import load_policy
from fangfanpin.core.privacy import mask_id, mask_phone, mask_text
from fangfanpin.core.warehouse_file import connect
from fangfanpin.deliverables import data
from fangfanpin.deliverables.task_packs import village_task_packs

DAYS_LEFT = "working_days_left"
PRINTED_AS = {"head_id": mask_id, "phone": mask_phone, "what_to_verify_zh": mask_text, "village_name": mask_text}


def packs_of(con, day: date) -> dict[str, list[dict]]:
    """Every village's open tasks on ``day``, each as its card prints it, without the working days left."""
    data.prepare(con, day)
    policy = load_policy()
    return {
        pack.village_code: [
            {k: PRINTED_AS.get(k, _as_is)(v) for k, v in task.items() if k != DAYS_LEFT} for task in pack.tasks
        ]
        for county in data.counties(con, day)
        for pack in village_task_packs(con, day, county, policy)
    }


def _as_is(value):
    return value


def what_differs(before: list[dict], after: list[dict]) -> str:
    ids_before, ids_after = [t["task_id"] for t in before], [t["task_id"] for t in after]
    if ids_before != ids_after:
        return "the order of the tasks" if sorted(ids_before) == sorted(ids_after) else "the tasks"
    return ", ".join(sorted({k for b, a in zip(before, after) for k in a if a[k] != b[k]}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--before", type=date.fromisoformat, required=True)
    ap.add_argument("--day", type=date.fromisoformat, required=True)
    args = ap.parse_args()
    con = connect(args.warehouse, read_only=True)
    con.execute("SET enable_progress_bar = false")
    before, after = packs_of(con, args.before), packs_of(con, args.day)
    con.close()
    same = [v for v in after if before.get(v) == after[v]]
    changed = Counter(what_differs(before[v], after[v]) for v in after if v in before and before[v] != after[v])
    print(f"village task packs on {args.day}: {len(after):,}; on {args.before}: {len(before):,}")
    print(f"  the same cards but for the working days left: {len(same):,}")
    print(f"  villages with a pack on {args.day} only: {sum(v not in before for v in after):,}")
    print(f"  villages with a pack on {args.before} only: {sum(v not in after for v in before):,}")
    print("  the others, by what differs:")
    for what, n in changed.most_common():
        print(f"    {n:>6,}  {what}")


if __name__ == "__main__":
    main()
