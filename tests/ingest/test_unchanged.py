"""A snapshot re-sent unchanged is not read again, and every table comes out as reading it would make it.

The reference is the same warehouse built with every file read: the fingerprints stored with the earlier deliveries
are cleared before each later date, so nothing matches and every file is parsed."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest
from landing_helpers import copy_delivery, read_text_rows, write_csv

from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.read import delivery_dates, find_feed_files

pytestmark = pytest.mark.warehouse

SNAPSHOTS = ["roster", "students", "medical_enrollment", "household_income", "civil_assistance", "housing_safety"]
FEEDS = SNAPSHOTS + ["medical_claims"]
TABLES = FEEDS + ["quarantine", "ingest_reports", "snapshot_versions", "issue_keys"]
DELIVERY_COLUMNS = "feed, delivery_date, kind, files, rows_read, rows_loaded, duplicates, resent, superseded, "
DELIVERY_COLUMNS += "quarantined, status, profile"


def _resend(src_landing, src_day, landing, day, feeds):
    """``feeds``' files of ``src_day`` delivered again, byte for byte, on ``day``."""
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for feed in feeds:
        for path in find_feed_files(src_landing, src_day, feed):
            shutil.copy(path, folder / path.name)


def _ingest(db, landing, days, *, read_all: bool, feeds=FEEDS) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """Ingest ``days`` in order; returns the connection and {(feed, day): the date it was the same as}."""
    con = duckdb.connect(str(db))
    same = {}
    for day in days:
        if read_all and day != days[0]:
            con.execute("UPDATE deliveries SET fingerprint = NULL")
        for feed in feeds:
            outcome = ingest_feed(con, load_contract(feed), landing, day)
            assert outcome.prepared.reconciles, (feed, day)
            same[feed, day] = outcome.prepared.same_as
    return con, same


def _tables(con) -> dict:
    found = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    found["deliveries"] = con.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY ALL").fetchall()
    return found


def test_snapshots_resent_unchanged_are_copied_exactly_as_reading_them(small_landing, tmp_path):
    d1, d2 = delivery_dates(small_landing)[:2]
    d3 = d2 + timedelta(days=1)  # the next day: a child born between d1 and a later d3 would make the roster read again
    landing = tmp_path / "landing"
    copy_delivery(small_landing, d1, landing, FEEDS)
    # d2: a new roster and new claims, every other snapshot re-sent from d1 (students are placed by the new roster)
    copy_delivery(small_landing, d2, landing, ["roster", "medical_claims"])
    _resend(small_landing, d1, landing, d2, SNAPSHOTS[1:])
    # d3: everything re-sent as it was on d2, the claims too (an increment is read again: its rows are re-sent ones)
    _resend(landing, d2, landing, d3, FEEDS)
    copied, same = _ingest(tmp_path / "copied.duckdb", landing, [d1, d2, d3], read_all=False)
    read, read_same = _ingest(tmp_path / "read.duckdb", landing, [d1, d2, d3], read_all=True)
    assert set(read_same.values()) == {None}
    assert _tables(copied) == _tables(read)
    assert same["roster", d2] is None and same["roster", d3] == d2
    assert same["housing_safety", d2] == d1 and same["housing_safety", d3] == d2  # the newest earlier delivery
    assert same["medical_claims", d3] is None
    message = copied.execute(
        "SELECT message FROM deliveries WHERE feed = 'housing_safety' AND delivery_date = ?", [d3]
    ).fetchall()[0][0]
    assert message.startswith("快照 ") and message.endswith(f"已替换上一期（与上次交付相同（{d2}），未重新解析）")
    # a re-run of a date, and an earlier date run again before it, leave every table as it was
    before = _tables(copied)
    for day in (d3, d1, d2, d3):
        for feed in FEEDS:
            ingest_feed(copied, load_contract(feed), landing, day)
    assert _tables(copied) == before


def test_a_value_judged_by_the_delivery_date_makes_the_file_read_again(small_landing, tmp_path):
    """A birth date after the first delivery's date is refused then (nulled and reported) but lawful a week later:
    the re-sent file is read again. One after both dates is refused on both, and the file is copied."""
    d1 = delivery_dates(small_landing)[0]
    d2 = d1 + timedelta(days=7)
    rows = read_text_rows(find_feed_files(small_landing, d1, "roster")[0])
    born = rows[0].index("出生日期")
    results = {}
    for label, birth in (("between", d1 + timedelta(days=3)), ("after", d2 + timedelta(days=30))):
        landing = tmp_path / label / "landing"
        changed = [rows[0], [*rows[1][:born], birth.isoformat(), *rows[1][born + 1 :]], *rows[2:]]
        for day in (d1, d2):
            (landing / day.isoformat()).mkdir(parents=True)
            write_csv(changed, landing / day.isoformat() / "roster_150625.csv", "utf-8")
        copied, same = _ingest(tmp_path / label / "copied.duckdb", landing, [d1, d2], read_all=False, feeds=["roster"])
        read, _ = _ingest(tmp_path / label / "read.duckdb", landing, [d1, d2], read_all=True, feeds=["roster"])
        assert _tables(copied) == _tables(read)
        results[label] = same["roster", d2]
        refused = copied.execute(
            "SELECT delivery_date FROM ingest_reports WHERE raw_value = ? AND problem LIKE '日期晚于数据日期%' ORDER BY 1",
            [birth.isoformat()],
        ).fetchall()
        assert refused == ([(d1,)] if label == "between" else [(d1,), (d2,)])
    assert results == {"between": None, "after": d1}


def test_a_changed_row_or_a_refused_file_is_read_a_damaged_one_copied(small_landing, tmp_path):
    d1 = delivery_dates(small_landing)[0]
    d2 = d1 + timedelta(days=1)
    rows = read_text_rows(find_feed_files(small_landing, d1, "students")[0])
    landing = tmp_path / "landing"
    for day in (d1, d2):
        (landing / day.isoformat()).mkdir(parents=True)
    copy_delivery(small_landing, d1, landing, ["roster", "household_income"])
    _resend(small_landing, d1, landing, d2, ["roster"])
    # students: one row in a hundred changed on d2
    write_csv(rows, landing / d1.isoformat() / "students_150625.csv", "utf-8")
    changed = [list(r) for r in rows]
    for row in changed[1::100]:
        row[-1] = (row[-1] or "") + "（更正）"
    write_csv(changed, landing / d2.isoformat() / "students_150625.csv", "utf-8")
    # household income: a file with a damaged line (a stray NUL byte), sent again as it was
    income = landing / d1.isoformat() / find_feed_files(small_landing, d1, "household_income")[0].name
    lines = income.read_bytes().split(b"\n")
    lines[5] = lines[5][:10] + b"\x00" + lines[5][10:]
    income.write_bytes(b"\n".join(lines))
    shutil.copy(income, landing / d2.isoformat() / income.name)
    # housing: a file that is not a CSV at all, sent again
    for day in (d1, d2):
        (landing / day.isoformat() / "housing_safety_150625.csv").write_bytes(bytes(range(256)) * 64)
    feeds = ["roster", "students", "household_income", "housing_safety"]
    copied, same = _ingest(tmp_path / "copied.duckdb", landing, [d1, d2], read_all=False, feeds=feeds)
    read, _ = _ingest(tmp_path / "read.duckdb", landing, [d1, d2], read_all=True, feeds=feeds)
    assert _tables(copied) == _tables(read)
    assert {f: same[f, d2] for f in feeds} == {
        "roster": d1,
        "students": None,
        "household_income": d1,
        "housing_safety": None,
    }
    damaged = copied.execute(
        "SELECT count(*) FROM quarantine WHERE feed = 'household_income' AND delivery_date = ?", [d2]
    ).fetchall()[0][0]
    assert damaged > 0
