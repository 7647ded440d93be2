"""Freshness: each feed's newest usable delivery against its contract's cadence."""

from datetime import date

import duckdb
import pytest

from fangfanpin.ingest import freshness
from fangfanpin.ingest.freshness import feed_freshness
from fangfanpin.schema import ensure_schema

pytestmark = pytest.mark.warehouse

DAY = date(2026, 11, 20)


def _delivered(con, feed: str, day: date, status: str = "applied") -> None:
    con.execute(
        "INSERT INTO deliveries (feed, delivery_date, files, status) VALUES (?, ?, '[]', ?)", [feed, day, status]
    )


def test_late_overdue_never_and_refused_deliveries_do_not_count():
    con = duckdb.connect()
    ensure_schema(con)
    _delivered(con, "medical_claims", date(2026, 11, 5))  # 15 days, cadence 10: late
    _delivered(con, "roster", date(2026, 9, 15))  # 66 days, cadence 31: overdue
    _delivered(con, "students", date(2026, 11, 1))  # within 31
    _delivered(con, "visit_results", date(2026, 11, 19))
    _delivered(con, "visit_results", DAY, "rejected")  # refused whole: yesterday's still the newest
    _delivered(con, "county_decisions", DAY + date.resolution)  # after the date: not yet
    got = {f["feed"]: f for f in feed_freshness(con, DAY)}
    assert got["medical_claims"]["status"] == "late" and got["medical_claims"]["age_days"] == 15
    assert got["roster"]["status"] == "overdue"
    assert got["students"]["status"] == "fresh"
    assert got["visit_results"]["age_days"] == 1 and got["visit_results"]["status"] == "fresh"
    assert got["county_decisions"]["status"] == "never" and got["applications"]["status"] == "never"
    assert freshness.describe(got["roster"]) == (
        "农户及家庭成员信息（乡村振兴局）最近一次交付 2026-09-15，距今 66 天，约定每 31 天交付一次：严重迟交"
    )
