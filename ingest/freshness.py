"""How fresh each feed is on a delivery date: its newest usable delivery against the cadence its contract states.

    for f in feed_freshness(con, day): f["feed"], f["age_days"], f["status"]   # fresh / late / overdue / never

A feed is *late* when its newest applied (or accepted) delivery is older than its ``cadence_days``, and *overdue*
past twice that; a delivery refused whole or held does not count as arrived.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.data_contracts import all_contracts

FRESH, LATE, OVERDUE, NEVER = "fresh", "late", "overdue", "never"
STATUS_ZH = {FRESH: "按时", LATE: "迟交", OVERDUE: "严重迟交", NEVER: "从未交付"}


def feed_freshness(con: duckdb.DuckDBPyConnection, day: date, feeds: list[str] | None = None) -> list[dict]:
    """Every feed's freshness on ``day`` (or only ``feeds``'), in feed-name order."""
    wanted = list(feeds) if feeds is not None else [c.feed for c in all_contracts()]
    last = dict(
        con.execute(
            """SELECT feed, max(delivery_date) FROM deliveries
               WHERE status IN ('applied', 'accepted') AND delivery_date <= ? AND list_contains(?, feed) GROUP BY 1""",
            [day, wanted],
        ).fetchall()
    )
    out = []
    for contract in all_contracts():
        if contract.feed not in wanted:
            continue
        newest = last.get(contract.feed)
        age = (day - newest).days if newest else None
        out.append(
            {
                "feed": contract.feed,
                "title": contract.title,
                "department": contract.department,
                "cadence_days": contract.cadence_days,
                "last_applied_delivery": newest,
                "age_days": age,
                "status": status(age, contract.cadence_days),
            }
        )
    return out


def status(age_days: int | None, cadence_days: int) -> str:
    """
    >>> [status(a, 10) for a in (None, 0, 10, 11, 20, 21)]
    ['never', 'fresh', 'fresh', 'late', 'late', 'overdue']
    """
    if age_days is None:
        return NEVER
    if age_days <= cadence_days:
        return FRESH
    return LATE if age_days <= 2 * cadence_days else OVERDUE


def describe(f: dict) -> str:
    """One line in Chinese for a county or an analyst."""
    if f["status"] == NEVER:
        return f"{f['title']}（{f['department']}）从未交付；约定每 {f['cadence_days']} 天交付一次"
    return (
        f"{f['title']}（{f['department']}）最近一次交付 {f['last_applied_delivery']:%Y-%m-%d}，距今 {f['age_days']} 天，"
        f"约定每 {f['cadence_days']} 天交付一次：{STATUS_ZH[f['status']]}"
    )
