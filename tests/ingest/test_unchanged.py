"""A snapshot re-sent unchanged is not read again, and every table comes out as reading it would make it.

The reference is the same warehouse built with every file read: the fingerprints stored with the earlier deliveries
are cleared before each later date, so nothing matches and every file is parsed. A feed's rows are compared as its
macros give them (each delivery's, and as of each date): a delivery may reuse the rows stored under another date."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest
from landing_helpers import copy_delivery, read_text_rows, write_csv

from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.read import delivery_dates, find_feed_files
from fangfanpin.ingest.warehouse import accept_delivery
from fangfanpin.ingest.warehouse.placement import OTHER_REGION

pytestmark = [pytest.mark.warehouse, pytest.mark.slow(seconds=30)]

SNAPSHOTS = ["roster", "students", "medical_enrollment", "household_income", "civil_assistance", "housing_safety"]
FEEDS = SNAPSHOTS + ["medical_claims"]
TABLES = ["quarantine", "ingest_reports", "snapshot_versions", "issue_keys"]
DELIVERY_COLUMNS = "feed, delivery_date, kind, files, rows_read, rows_loaded, duplicates, resent, superseded, "
DELIVERY_COLUMNS += "quarantined, status, profile"


def _resend(src_landing, src_day, landing, day, feeds):
    """``feeds``' files of ``src_day`` delivered again, byte for byte, on ``day``."""
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for feed in feeds:
        for path in find_feed_files(src_landing, src_day, feed):
            shutil.copy(path, folder / path.name)


def _ingest(db, landing, days, *, read_all: bool, feeds=FEEDS, region=None) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """Ingest ``days`` in order; returns the connection and {(feed, day): the date it was the same as}."""
    con = duckdb.connect(str(db))
    same = {}
    for day in days:
        if read_all and day != days[0]:
            con.execute("UPDATE deliveries SET fingerprint = NULL")
        for feed in feeds:
            outcome = ingest_feed(con, load_contract(feed), landing, day, region_counties=region)
            assert outcome.prepared.reconciles, (feed, day)
            same[feed, day] = outcome.prepared.same_as
    return con, same


def _tables(con, feeds=FEEDS) -> dict:
    found = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    found["deliveries"] = con.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY ALL").fetchall()
    days = [d for (d,) in con.execute("SELECT DISTINCT delivery_date FROM deliveries ORDER BY 1").fetchall()]
    for feed in feeds:
        for day in days:
            for macro in ("delivery", "asof"):
                found[feed, macro, day] = con.execute(
                    f"SELECT * FROM {feed}_{macro}(?::DATE) ORDER BY ALL", [day]
                ).fetchall()
    return found


def _stored(con, feed, day) -> int:
    return con.execute(f"SELECT count(*) FROM {feed} WHERE _delivery_date = ?", [day]).fetchall()[0][0]


def test_snapshots_resent_unchanged_come_out_exactly_as_reading_them(small_landing, tmp_path):
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
    # placed where they were, the re-sent rows are stored once: d2 and d3 reuse d1's
    assert _stored(copied, "housing_safety", d1) > 0
    assert _stored(copied, "housing_safety", d2) == _stored(copied, "housing_safety", d3) == 0
    reused = _reused(copied)
    assert ("housing_safety", d3, d1) in reused and ("roster", d3, d2) in reused
    # a re-run of a date, and an earlier date run again before it (the stored rows others reuse), leave every table
    # as it was
    before = _tables(copied)
    for day in (d3, d1, d2, d3):
        for feed in FEEDS:
            ingest_feed(copied, load_contract(feed), landing, day)
        if day == d1:  # d1 replaced the rows d2 and d3 reused: d2 took a copy of them, and d3 reuses that
            assert _stored(copied, "housing_safety", d2) == _stored(copied, "housing_safety", d1)
            assert ("housing_safety", d3, d2) in _reused(copied)
            assert _tables(copied) == before
    assert _tables(copied) == before and _reused(copied) == reused
    # d1's housing file corrected and run again: d2 and d3 keep the rows they reused from it, then read as their files
    housing = find_feed_files(landing, d1, "housing_safety")[0]
    rows = read_text_rows(housing)
    housing.unlink()
    write_csv([rows[0], [f"{rows[1][0]}（更正）", *rows[1][1:]], *rows[2:]], housing.with_suffix(".csv"), "utf-8")
    ingest_feed(copied, load_contract("housing_safety"), landing, d1)
    after = _tables(copied)
    assert after["housing_safety", "delivery", d1] != before["housing_safety", "delivery", d1]
    assert all(
        after["housing_safety", m, d] == before["housing_safety", m, d] for m in ("delivery", "asof") for d in (d2, d3)
    )
    for day in (d2, d3):
        for feed in FEEDS:
            ingest_feed(copied, load_contract(feed), landing, day)
    reread, _ = _ingest(tmp_path / "reread.duckdb", landing, [d1, d2, d3], read_all=True)
    assert _tables(copied) == _tables(reread)
    assert ("housing_safety", d3, d2) in _reused(copied)


def _reused(con) -> list[tuple]:
    return con.execute("SELECT feed, delivery_date, rows_of FROM reused_snapshots ORDER BY ALL").fetchall()


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
        assert _tables(copied, ["roster"]) == _tables(read, ["roster"])
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
    assert _tables(copied, feeds) == _tables(read, feeds)
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


def _moved_household(small_landing, day, folder, to_village: str) -> None:
    """``day``'s roster with a pupil's household moved to ``to_village``, written to ``folder``."""
    pupil_id = load_contract("students").column("id_number").header
    pupils = {r[0] for r in _columns(find_feed_files(small_landing, day, "students")[0], [pupil_id])}
    roster = find_feed_files(small_landing, day, "roster")[0]
    rows = read_text_rows(roster)
    ids, households, villages = (rows[0].index(h) for h in ("证件号码", "户编号", "行政区划代码"))
    moved = next(r[households] for r in rows[1:] if r[ids] in pupils)
    elsewhere = [[*r[:villages], to_village, *r[villages + 1 :]] if r[households] == moved else r for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(elsewhere, folder / roster.name, "utf-8")


def test_rows_resent_unchanged_but_placed_elsewhere_are_stored_again(small_landing, tmp_path):
    """Pupils are placed in counties by the day's roster. When the new roster moves a pupil's household to another
    county, the re-sent student file is still not read again, but its rows no longer land where they are stored:
    they are stored again under the new date, placed anew."""
    d1 = delivery_dates(small_landing)[0]
    d2 = d1 + timedelta(days=1)
    landing = tmp_path / "landing"
    copy_delivery(small_landing, d1, landing, ["roster", "students"])
    _resend(small_landing, d1, landing, d2, ["students"])
    _moved_household(small_landing, d1, landing / d2.isoformat(), "152201001001")
    copied, same = _ingest(tmp_path / "copied.duckdb", landing, [d1, d2], read_all=False, feeds=["roster", "students"])
    read, _ = _ingest(tmp_path / "read.duckdb", landing, [d1, d2], read_all=True, feeds=["roster", "students"])
    assert same["students", d2] == d1
    assert _tables(copied, ["roster", "students"]) == _tables(read, ["roster", "students"])
    assert _reused(copied) == [] and _stored(copied, "students", d2) == _stored(copied, "students", d1)
    counties = copied.execute("SELECT DISTINCT county_code FROM students_delivery(?::DATE)", [d2]).fetchall()
    assert ("152201",) in counties and ("152201",) not in copied.execute(
        "SELECT DISTINCT county_code FROM students_delivery(?::DATE)", [d1]
    ).fetchall()


def test_a_region_run_reuses_rows_it_leaves_outside_and_reports_them_again(small_landing, tmp_path):
    """A region's run stores rows of a county outside it without a county and reports them (the moved household's
    roster rows; its pupils are then unplaced). Re-sent unchanged, they are placed outside again: the rows are
    reused and the reports made again, as reading would make them."""
    d1 = delivery_dates(small_landing)[0]
    d2 = d1 + timedelta(days=1)
    landing = tmp_path / "landing"
    copy_delivery(small_landing, d1, landing, ["students"])
    _moved_household(small_landing, d1, landing / d1.isoformat(), "152201001001")
    _resend(landing, d1, landing, d2, ["roster", "students"])
    feeds, region = ["roster", "students"], frozenset({"150625"})
    copied, same = _ingest(tmp_path / "copied.duckdb", landing, [d1, d2], read_all=False, feeds=feeds, region=region)
    read, _ = _ingest(tmp_path / "read.duckdb", landing, [d1, d2], read_all=True, feeds=feeds, region=region)
    assert {("roster", d2, d1), ("students", d2, d1)} <= set(_reused(copied))
    assert _tables(copied, feeds) == _tables(read, feeds)
    outside = copied.execute(
        "SELECT count(*) FROM ingest_reports WHERE feed = 'roster' AND delivery_date = ? AND starts_with(problem, ?)",
        [d2, OTHER_REGION],
    ).fetchall()[0][0]
    assert outside > 0


def test_a_held_snapshot_sent_again_reuses_its_rows_and_stands_once_accepted(small_landing, tmp_path):
    d1 = delivery_dates(small_landing)[0]
    d2, d3 = d1 + timedelta(days=1), d1 + timedelta(days=2)
    landing = tmp_path / "landing"
    copy_delivery(small_landing, d1, landing, ["roster", "students"])
    _resend(small_landing, d1, landing, d2, ["roster"])
    rows = read_text_rows(find_feed_files(small_landing, d1, "students")[0])
    write_csv(rows[: len(rows) // 3], landing / d2.isoformat() / "students_150625.csv", "utf-8")  # shrunk: held
    _resend(landing, d2, landing, d3, ["roster", "students"])
    feeds = ["roster", "students"]
    copied, same = _ingest(tmp_path / "copied.duckdb", landing, [d1, d2, d3], read_all=False, feeds=feeds)
    read, _ = _ingest(tmp_path / "read.duckdb", landing, [d1, d2, d3], read_all=True, feeds=feeds)
    assert same["students", d3] == d2 and ("students", d3, d2) in _reused(copied)
    held = "SELECT status FROM snapshot_versions WHERE feed = 'students' AND delivery_date = ? AND county_code = ?"
    assert copied.execute(held, [d3, "150625"]).fetchall() == [("held",)]
    asof = "SELECT count(*) FROM students_asof(?::DATE) WHERE county_code = '150625'"
    assert copied.execute(asof, [d3]).fetchall() == copied.execute(asof, [d1]).fetchall()
    for con in (copied, read):
        accept_delivery(con, "students", d3)
    assert _tables(copied, feeds) == _tables(read, feeds)
    shrunk = copied.execute(asof.replace("asof", "delivery"), [d2]).fetchall()
    assert copied.execute(asof, [d3]).fetchall() == shrunk != copied.execute(asof, [d1]).fetchall()


def _columns(path, headers) -> list[list[str]]:
    rows = read_text_rows(path)
    at = [rows[0].index(h) for h in headers]
    return [[r[i] for i in at] for r in rows[1:]]
