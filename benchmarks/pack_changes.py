"""How many village task packs of a date differ from the day before in more than the working days left they count.

    .venv/bin/python benchmarks/pack_changes.py WAREHOUSE --before 2026-11-20 --day 2026-11-21

WAREHOUSE holds both dates' ledger and scores (e.g. <workdir>/o1000000/warehouse.duckdb of ``daily_run_benchmark.py
--only-ordinary-day`` after its 1 % day: what the last code run there left); it is opened read-only. Each date's
packs are read as the deliverables read them (``deliverables.task_packs.village_task_packs``), each task as its card
prints it (``card_rows``: masked as printed). Printed: the villages with a pack on the day, those
whose cards are the same but for the working days left (a pack that only a reprint policy could skip), and what
differs in the others. It answers whether printing only the packs that changed would save the deliverables' time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date
from pathlib import Path

from fangfanpin.config.policy import load_policy
from fangfanpin.core.privacy import mask_text
from fangfanpin.core.warehouse_file import connect
from fangfanpin.deliverables import data
from fangfanpin.deliverables.task_packs import card_rows, village_task_packs


def packs_of(con, day: date) -> dict[str, tuple]:
    """Every village's pack on ``day`` as it prints: its village's name and each card's rows (``card_rows``), with the
    card's number and its working days left the same on every card."""
    data.prepare(con, day)
    policy = load_policy()
    return {
        pack.village_code: (mask_text(pack.village_name), *(_card(task) for task in pack.tasks))
        for county in data.counties(con, day)
        for pack in village_task_packs(con, day, county, policy)
    }


def _card(task: dict) -> tuple[str, tuple]:
    """(task id, the card's rows as printed) of ``task``, its number and working days left set aside."""
    rows = card_rows(0, task | {"working_days_left": 0}, conclusions="")
    return task["task_id"], tuple(tuple(row) for row in rows)


def what_differs(before: tuple, after: tuple) -> str:
    """What tells the two prints of one village's pack apart: its tasks, their order, or the labels of the rows that
    differ (the village's name for the title)."""
    (name_before, *cards_before), (name_after, *cards_after) = before, after
    ids_before, ids_after = [i for i, _ in cards_before], [i for i, _ in cards_after]
    if ids_before != ids_after:
        return "the order of the tasks" if sorted(ids_before) == sorted(ids_after) else "the tasks"
    labels = {
        label
        for (_, rows_b), (_, rows_a) in zip(cards_before, cards_after)
        for row_b, row_a in zip(rows_b, rows_a)
        for label, cell_b, cell_a in ((row_a[0], row_b[1], row_a[1]), (row_a[2], row_b[3], row_a[3]))
        if cell_b != cell_a
    }
    return "、".join(sorted(labels | ({"村名"} if name_before != name_after else set())))


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
