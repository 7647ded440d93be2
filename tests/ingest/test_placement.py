"""Placing a department's rows in a county through the roster, when a person is in two counties' rosters: moved
from one county to another, the old county's snapshot (not delivered again) still lists them."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest
from landing_helpers import first_date, read_text_rows, write_csv

from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.read import find_feed_files

pytestmark = pytest.mark.warehouse

NEW_COUNTY, NEW_VILLAGE = "150626", "150626100200"


def _moved_person_landing(small_landing, tmp_path):
    """Day 1: the generated roster of 150625. Day 2: a roster of 150626 whose one person is also in 150625's, and a
    settlement of that person. Returns (landing, day 2, the person's ID)."""
    day1 = first_date(small_landing)
    day2 = day1 + timedelta(days=1)
    rows = read_text_rows(find_feed_files(small_landing, day1, "roster")[0])
    header = rows[0]
    landing = tmp_path / "landing"
    (landing / day1.isoformat()).mkdir(parents=True)
    (landing / day2.isoformat()).mkdir(parents=True)
    write_csv(rows, landing / day1.isoformat() / "roster_150625.csv", "utf-8")
    moved = dict(zip(header, rows[1]))
    moved |= {"县(市、区、旗)": "乌审旗", "行政区划代码": NEW_VILLAGE, "户编号": "150626-moved", "与户主关系": "户主"}
    write_csv([header, [moved[h] for h in header]], landing / day2.isoformat() / f"roster_{NEW_COUNTY}.csv", "utf-8")
    claim = {
        "结算流水号": "JS-moved-1",
        "结算类型": "正常",
        "证件号码": moved["证件号码"],
        "姓名": moved["姓名"],
        "结算日期": day2.isoformat(),
        "就诊类型": "住院",
        "医疗总费用(元)": "1000",
        "基本医保支付(元)": "600",
        "个人负担(元)": "400",
    }
    claims_header = [c.header for c in load_contract("medical_claims").columns]
    write_csv(
        [claims_header, [claim.get(h, "") for h in claims_header]],
        landing / day2.isoformat() / f"medical_claims_{NEW_COUNTY}.csv",
        "utf-8",
    )
    return landing, day1, day2, moved["证件号码"]


def test_a_person_in_two_rosters_places_each_of_their_rows_once(small_landing, tmp_path):
    landing, day1, day2, person = _moved_person_landing(small_landing, tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), landing, day1)
    ingest_feed(con, load_contract("roster"), landing, day2)
    in_force = con.execute("SELECT count(*) FROM roster_asof(?::DATE) WHERE id_number = ?", [day2, person])
    assert in_force.fetchall()[0][0] == 2  # the old county's snapshot still lists them

    outcome = ingest_feed(con, load_contract("medical_claims"), landing, day2)

    assert outcome.prepared.reconciles
    stored = con.execute("SELECT county_code FROM medical_claims WHERE _delivery_date = ?", [day2]).fetchall()
    assert stored == [(NEW_COUNTY,)]  # once, in the county whose roster listed them last
    assert outcome.applied.rows_stored == 1
    read, accounted = con.execute(  # what the blocking counts_reconcile check compares
        "SELECT rows_read, rows_loaded + duplicates + resent + superseded + quarantined FROM deliveries "
        "WHERE feed = 'medical_claims' AND delivery_date = ?",
        [day2],
    ).fetchall()[0]
    assert read == accounted == 1


def test_the_person_in_force_is_the_row_delivered_last(small_landing, tmp_path):
    landing, day1, day2, person = _moved_person_landing(small_landing, tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), landing, day1)
    ingest_feed(con, load_contract("roster"), landing, day2)
    rows = con.execute(
        "SELECT household_id, county_code FROM roster_in_force(?::DATE) WHERE id_number = ?", [day2, person]
    ).fetchall()
    assert rows == [("150626-moved", NEW_COUNTY)]
    persons, distinct = con.execute(
        "SELECT count(*), count(DISTINCT id_number) FROM roster_in_force(?::DATE)", [day2]
    ).fetchall()[0]
    before = con.execute("SELECT count(*) FROM roster_asof(?::DATE)", [day1]).fetchall()[0][0]
    assert persons == distinct == before  # the one who moved is counted once, in the new county


def test_a_person_who_moved_twice_is_in_force_once_where_they_went_last(small_landing, tmp_path):
    landing, day1, day2, person = _moved_person_landing(small_landing, tmp_path)
    day3 = day2 + timedelta(days=1)
    rows = read_text_rows(landing / day2.isoformat() / f"roster_{NEW_COUNTY}.csv")
    rows[1][rows[0].index("行政区划代码")], rows[1][rows[0].index("户编号")] = "150627100200", "150627-moved"
    (landing / day3.isoformat()).mkdir()
    write_csv(rows, landing / day3.isoformat() / "roster_150627.csv", "utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in (day1, day2, day3):
        ingest_feed(con, load_contract("roster"), landing, day)
    listed = con.execute("SELECT count(*) FROM roster_asof(?::DATE) WHERE id_number = ?", [day3, person])
    assert listed.fetchall()[0][0] == 3
    rows = con.execute(
        "SELECT household_id, county_code FROM roster_in_force(?::DATE) WHERE id_number = ?", [day3, person]
    ).fetchall()
    assert rows == [("150627-moved", "150627")]


def test_snapshots_sent_again_keep_each_person_once(small_landing, tmp_path):
    """Day 3: 150626 re-sends day 2's file unchanged (its rows reused, labelled day 3): the person stays there, once.
    Day 4: 150625 re-sends day 1's file: the newest snapshot lists the person there, and they are in force once."""
    landing, day1, day2, person = _moved_person_landing(small_landing, tmp_path)
    day3, day4 = day2 + timedelta(days=1), day2 + timedelta(days=2)
    for day, source, name in ((day3, day2, f"roster_{NEW_COUNTY}.csv"), (day4, day1, "roster_150625.csv")):
        (landing / day.isoformat()).mkdir()
        shutil.copy(landing / source.isoformat() / name, landing / day.isoformat() / name)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    placed = {}
    for day in (day1, day2, day3, day4):
        ingest_feed(con, load_contract("roster"), landing, day)
        placed[day] = con.execute(
            "SELECT county_code FROM roster_in_force(?::DATE) WHERE id_number = ?", [day, person]
        ).fetchall()
        persons, distinct = con.execute(
            "SELECT count(*), count(DISTINCT id_number) FROM roster_in_force(?::DATE)", [day]
        ).fetchall()[0]
        assert persons == distinct, day
    assert con.execute("SELECT rows_of FROM reused_snapshots WHERE delivery_date = ?", [day3]).fetchall() == [(day2,)]
    assert placed == {day1: [("150625",)], day2: [(NEW_COUNTY,)], day3: [(NEW_COUNTY,)], day4: [("150625",)]}
