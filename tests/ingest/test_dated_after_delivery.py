"""Records dated after their delivery date: each date column's contract says whether such a date is loaded and
reported, loaded silently, or refused; a loaded one is ignored by every window and "latest record" pick until its
date comes, then counted without being delivered again."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pytest
import yaml
from crosscheck_helpers import ADULT1, VILLAGE, D, _assist, _child, _claim, base, fresh, pid
from landing_helpers import copy_delivery

from fangfanpin.crosscheck import run_crosscheck
from fangfanpin.data_contracts import FEEDS_DIR, ContractError, _parse, all_contracts, load_contract
from fangfanpin.data_contracts.gx_suites import structure_suite, validate
from fangfanpin.ingest import ingest_feed

pytestmark = pytest.mark.warehouse

AFTER = {
    ("applications", "application_date"): "refuse",
    ("civil_assistance", "start_date"): "report",
    ("civil_assistance", "end_date"): "allow",
    ("county_decisions", "decision_date"): "refuse",
    ("econ_check", "check_date"): "report",
    ("housing_safety", "assessment_date"): "report",
    ("housing_safety", "completion_date"): "allow",
    ("medical_claims", "settlement_date"): "report",
    ("publication_results", "start_date"): "refuse",
    ("publication_results", "end_date"): "refuse",
    ("roster", "birth_date"): "refuse",
    ("roster", "risk_identified_date"): "report",
    ("roster", "risk_eliminated_date"): "report",
    ("students", "status_changed_date"): "report",
    ("visit_results", "visit_date"): "refuse",
}


def test_every_date_column_says_what_a_date_after_delivery_means():
    found = {(c.feed, col.name): col.after_delivery for c in all_contracts() for col in c.columns if col.type == "date"}
    assert found == AFTER


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("settlement_date", "ignore", "after_delivery must be one of"),
        ("name", "allow", "sets after_delivery but is not a date column"),
    ],
)
def test_a_contract_with_a_wrong_after_delivery_is_refused(tmp_path, column, value, message):
    raw = yaml.safe_load((FEEDS_DIR / "medical_claims.yaml").read_text(encoding="utf-8"))
    for c in raw["columns"]:
        if c["name"] == column:
            c["after_delivery"] = value
    path = tmp_path / "medical_claims.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContractError, match=message):
        _parse(path)


# ---------------------------------------------------------------- hand-built warehouse: every dated reader

LATER = D + timedelta(days=5)


def test_roster_risk_dates_count_from_their_date():
    wh = fresh(household_type="监测户", risk_identified_date=LATER, risk_eliminated=False, risk_type_1="因病")
    base(
        wh,
        hh="H2",
        ids=(pid(date(1970, 1, 1), 51), pid(date(1971, 1, 1), 62)),
        household_type="监测户",
        risk_identified_date=date(2025, 3, 1),
        risk_eliminated=True,
        risk_eliminated_date=LATER,
        risk_type_1="因病",
    )
    wh.load().run(D)
    wh.run(LATER)
    assert (wh.indicators("H1", D)["monitored"], wh.indicators("H1", D)["risk_identified_date"]) == (False, None)
    assert (wh.indicators("H1", LATER)["monitored"], wh.indicators("H1", LATER)["risk_identified_date"]) == (
        True,
        LATER,
    )
    assert wh.indicators("H2", D)["monitored"] is True  # not eliminated yet
    assert wh.indicators("H2", LATER)["monitored"] is False


def test_a_school_status_changed_after_the_date_counts_from_it():
    wh = fresh(size=3)
    _child(wh, 12, student={"stage": "小学", "enrolment_status": "辍学", "status_changed_date": D + timedelta(days=3)})
    wh.load().run(D)
    assert wh.hits(D) == {}  # neither a dropout yet nor a child without a school record
    wh.run(LATER)
    assert set(wh.hits(LATER)) == {"EDU-DROPOUT"}


def test_a_dibao_stopping_after_the_date_still_covers_until_then():
    wh = fresh(labour="丧失劳动力")
    _assist(wh, "农村低保", "停保", date(2024, 1, 1), end=D + timedelta(days=3))
    wh.load().run(D)
    assert wh.indicators(day=D)["dibao_covered"] is True and "LAB-NONE" not in wh.hits(D)
    wh.run(LATER)
    assert wh.indicators(day=LATER)["dibao_covered"] is False and "LAB-NONE" in wh.hits(LATER)


def test_windows_and_latest_picks_wait_for_the_date():
    wh = fresh()
    soon = D + timedelta(days=3)
    _claim(wh, "S1", burden=30000.0, total=60000.0, visit="住院", when=D - timedelta(days=20))
    _claim(wh, "R1", burden=-30000.0, total=-60000.0, kind="冲销", original="S1", when=soon)
    _claim(wh, "S2", burden=500.0, when=soon)
    wh.add(
        "housing_safety",
        head_id_number=ADULT1,
        head_name="张H10",
        village_code=VILLAGE,
        safety_grade="D",
        assessment_date=soon,
        renovation_status="未改造",
    )
    wh.add("econ_check", id_number=ADULT1, check_date=D - timedelta(days=30), vehicles=0)
    wh.add("econ_check", id_number=ADULT1, check_date=soon, vehicles=2)
    _assist(wh, "临时救助", "已发放", soon, amount=3000.0, reason="家中火灾")
    wh.load().run(D)
    on_d = wh.indicators(day=D)
    assert (
        on_d["oop_12m"],
        on_d["catastrophic_stays"],
        on_d["housing_grade"],
        on_d["vehicles"],
        on_d["temp_aid_start"],
    ) == (30000.0, 1, "A", 0, None)
    assert {"MED-BURDEN", "MED-CATASTROPHIC"} == set(wh.hits(D))
    wh.run(LATER)
    later = wh.indicators(day=LATER)
    assert (
        later["oop_12m"],
        later["catastrophic_stays"],
        later["housing_grade"],
        later["vehicles"],
        later["temp_aid_start"],
    ) == (500.0, 0, "D", 2, soon)
    assert {"HOU-UNSAFE", "CIV-TEMP-AID"} == set(wh.hits(LATER))


# ---------------------------------------------------------------- generated county, real ingest and cross-check

SNAPSHOT, DAY, NEXT = date(2026, 10, 31), date(2026, 11, 15), date(2026, 11, 20)
SOON = DAY + timedelta(days=3)  # after DAY, on or before NEXT
EXTRA_FILE = "medical_claims_150625_late.csv"


def _run(db, landing) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db))
    for day in (SNAPSHOT, DAY, NEXT):
        for contract in all_contracts():
            ingest_feed(con, contract, landing, day)
    for day in (DAY, NEXT):
        run_crosscheck(con, day)
    return con


def _indicators(con, day) -> dict[str, dict]:
    cur = con.execute("SELECT * FROM household_indicators WHERE as_of_date = ? ORDER BY household_id", [day])
    cols = [c[0] for c in cur.description]
    return {r[cols.index("household_id")]: dict(zip(cols, r)) for r in cur.fetchall()}


def _claims_file(path, person: str, name: str) -> None:
    """Delivered on DAY: a settlement dated before DAY, and a settlement and the first one's 冲销 dated SOON."""
    rows = [
        dict(
            settlement_id="LATE-S1",
            settlement_type="正常",
            settlement_date=DAY - timedelta(days=10),
            total_cost="1500.00",
            basic_insurance_paid="500.00",
            personal_burden="1000.00",
        ),
        dict(
            settlement_id="LATE-S2",
            settlement_type="正常",
            settlement_date=SOON,
            total_cost="8000.00",
            basic_insurance_paid="3000.00",
            personal_burden="5000.00",
        ),
        dict(
            settlement_id="LATE-R1",
            settlement_type="冲销",
            original_settlement_id="LATE-S1",
            settlement_date=SOON,
            total_cost="-1500.00",
            basic_insurance_paid="-500.00",
            personal_burden="-1000.00",
        ),
    ]
    contract = load_contract("medical_claims")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c.header for c in contract.columns])
        for r in rows:
            r |= dict(id_number=person, name=name, visit_type="普通门诊")
            out.writerow([str(r.get(c.name, "")) for c in contract.columns])


def test_a_settlement_and_a_reversal_dated_after_delivery_count_from_their_date(small_landing, tmp_path):
    control = _run(tmp_path / "control.duckdb", small_landing)
    person, name, household = control.execute(
        """
        SELECT r.id_number, r.name, r.household_id FROM roster_asof(?::DATE) r
        JOIN roster_asof(?::DATE) n USING (id_number, household_id)
        WHERE coalesce(r.person_status, '正常') = '正常' AND coalesce(n.person_status, '正常') = '正常'
        ORDER BY r.id_number LIMIT 1""",
        [DAY, NEXT],
    ).fetchall()[0]
    expected = {day: _indicators(control, day) for day in (DAY, NEXT)}
    control.close()

    landing = tmp_path / "landing"
    for day in (SNAPSHOT, DAY, NEXT):
        copy_delivery(small_landing, day, landing)
    _claims_file(landing / DAY.isoformat() / EXTRA_FILE, person, name)
    con = _run(tmp_path / "w.duckdb", landing)

    # Loaded, reported by file, row and column; nothing quarantined; the structure suite passes on the rows.
    assert con.execute("SELECT count(*) FROM medical_claims WHERE _file = ?", [EXTRA_FILE]).fetchall()[0][0] == 3
    assert con.execute("SELECT count(*) FROM quarantine WHERE file = ?", [EXTRA_FILE]).fetchall()[0][0] == 0
    reports = con.execute(
        """SELECT "row", "column", problem FROM ingest_reports WHERE delivery_date = ? AND file = ?
                             ORDER BY "row" """,
        [DAY, EXTRA_FILE],
    ).fetchall()
    note = "日期晚于数据日期（2026-11-15），已载入，在该日期之前不参与计算"
    assert reports == [(3, "结算日期", note), (4, "结算日期", note)]
    rows = con.sql("SELECT * FROM medical_claims WHERE _delivery_date = ?", params=[DAY]).pl()
    assert validate(rows, structure_suite(load_contract("medical_claims"))).success

    # On DAY only the settlement dated before it counts; on NEXT the later settlement and the reversal count.
    for day, burden, settlements, last in ((DAY, 1000.0, 1, DAY - timedelta(days=10)), (NEXT, 5000.0, 1, SOON)):
        got = _indicators(con, day)
        assert got.keys() == expected[day].keys()
        assert {h: r for h, r in got.items() if h != household} == {
            h: r for h, r in expected[day].items() if h != household
        }
        mine, before = got[household], expected[day][household]
        assert mine["oop_12m"] == pytest.approx(before["oop_12m"] + burden, abs=0.005), day
        assert mine["oop_settlements"] == before["oop_settlements"] + settlements, day
        assert mine["oop_last_date"] == max(d for d in (before["oop_last_date"], last) if d is not None), day
        changed = {"oop_12m", "oop_settlements", "oop_last_date"}
        assert {k: v for k, v in mine.items() if k not in changed} == {
            k: v for k, v in before.items() if k not in changed
        }
    con.close()
