"""Linking by name + birth date + village when a record's ID number is not in the roster: the forms of the 间隔号 in
minority names (阿拉坦·其其格, 阿拉坦•其其格, 阿拉坦其其格 ...) are one name; still exactly one candidate, never by name alone."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pytest
from crosscheck_helpers import VILLAGE, base, fresh, pid
from landing_helpers import copy_delivery, read_text_rows, write_csv
from stdnum.cn.ric import calc_check_digit

from fangfanpin.crosscheck import run_crosscheck
from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.headers import header_key
from fangfanpin.ingest.prepare import prepare_delivery
from fangfanpin.ingest.read import find_feed_files, read_file

pytestmark = pytest.mark.warehouse

ROSTER_NAME = "阿拉坦·其其格"  # U+00B7, as the national system writes it
FORMS = [
    "阿拉坦•其其格",
    "阿拉坦・其其格",
    "阿拉坦･其其格",
    "阿拉坦‧其其格",
    "阿拉坦⋅其其格",
    "阿拉坦∙其其格",
    "阿拉坦.其其格",
    "阿拉坦．其其格",
    "阿拉坦 其其格",
    "阿拉坦\u3000其其格",
    "阿拉坦其其格",
    "阿拉坦·其其格",
]
BIRTH = date(1990, 2, 2)


def _links(wh) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in wh.query(
            "SELECT record_id_number, match_method, household_id, candidates FROM person_links WHERE feed = 'civil_assistance'"
        )
    }


def _assistance(wh, person: str, name: str, village: str = VILLAGE) -> None:
    wh.add(
        "civil_assistance",
        id_number=person,
        name=name,
        village_code=village,
        assistance_type="临时救助",
        assistance_status="已发放",
        start_date=date(2026, 10, 1),
    )


@pytest.mark.parametrize("written", FORMS)
def test_every_form_of_the_separator_links(written):
    wh = fresh()
    base(wh, hh="H2", ids=(pid(BIRTH, 91), pid(date(1991, 1, 1), 92)))
    wh.rows[("roster", date(2026, 11, 1))][2]["name"] = ROSTER_NAME
    mistyped = pid(BIRTH, 555)  # the order code mistyped, the check digit valid
    _assistance(wh, mistyped, written)
    wh.load().run()
    assert _links(wh)[mistyped] == ("name_birth_village", "H2", 1)


def test_the_separator_forms_do_not_loosen_the_rules():
    wh = fresh()
    base(wh, hh="H2", ids=(pid(BIRTH, 91), pid(date(1991, 1, 1), 92)))
    base(wh, hh="H3", ids=(pid(date(1950, 1, 1), 93), pid(BIRTH, 94)))
    roster = wh.rows[("roster", date(2026, 11, 1))]
    roster[2]["name"], roster[5]["name"] = "阿拉坦·其其格", "阿拉坦其其格"  # two people, same birth date and village
    _assistance(wh, pid(BIRTH, 555), "阿拉坦•其其格")  # fits both: not linked
    _assistance(wh, pid(BIRTH, 557), "其其格")  # part of a name is not the name
    _assistance(wh, pid(BIRTH, 559), "·")  # no name at all once the separator is gone
    _assistance(wh, pid(date(1990, 2, 3), 561), "阿拉坦·其其格")  # another birth date
    _assistance(wh, pid(BIRTH, 563), "阿拉坦·其其格", village="150625101201")  # another village
    wh.load().run()
    links = _links(wh)
    assert links[pid(BIRTH, 555)] == ("unmatched", None, 2)
    for other in (pid(BIRTH, 557), pid(BIRTH, 559), pid(date(1990, 2, 3), 561), pid(BIRTH, 563)):
        assert links[other] == ("unmatched", None, None), other
    kinds = wh.query("""SELECT id_number, kind FROM data_quality_issues WHERE feed = 'civil_assistance'""")
    assert dict(kinds)[pid(BIRTH, 555)] == "ambiguous_name_match"


# ---------------------------------------------------------------- generated county, real ingest and cross-check

DAY = date(2026, 10, 31)


def _pick_person(path) -> dict:
    """A living roster person whose roster birth date agrees with the ID number, in a village of their own name."""
    rows = prepare_delivery(load_contract("roster"), [path], DAY).rows
    rows = rows.filter(
        rows["id_number"].is_unique()
        & rows["village_code"].is_not_null()
        & (rows["person_status"].is_null() | (rows["person_status"] == "正常"))
    )
    for r in rows.sort("id_number").iter_rows(named=True):
        if r["birth_date"] in (
            None,
            date(int(r["id_number"][6:10]), int(r["id_number"][10:12]), int(r["id_number"][12:14])),
        ):
            return r
    raise AssertionError("no roster person to use")


def test_a_minority_name_written_another_way_links_in_a_generated_county(small_landing, tmp_path):
    landing = tmp_path / "landing"
    folder = copy_delivery(small_landing, DAY, landing, feeds=["roster", "civil_assistance"])
    roster = find_feed_files(landing, DAY, "roster")[0]
    person = _pick_person(roster)
    # The roster writes the name with U+00B7; 民政 writes it with U+2022 and mistypes the ID's order code.
    raw = read_file(roster)
    at = raw.frame.get_column("_row").to_list().index(person["_row"])
    rows = read_text_rows(roster)
    rows[at + 1][[header_key(h) for h in rows[0]].index("姓名")] = ROSTER_NAME
    roster.unlink()
    write_csv(rows, folder / "roster_150625.csv", "utf-8")
    body = person["id_number"][:14] + f"{(int(person['id_number'][14:17]) + 2) % 1000:03d}"
    mistyped = body + calc_check_digit(body + "?")  # stdnum takes the number with its check character
    assistance = load_contract("civil_assistance")
    record = dict(
        id_number=mistyped,
        name="阿拉坦•其其格",
        village_code=person["village_code"],
        assistance_type="临时救助",
        assistance_status="已发放",
        start_date=(DAY - timedelta(days=20)).isoformat(),
        one_off_amount="1000",
    )
    with open(folder / "civil_assistance_150625_extra.csv", "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c.header for c in assistance.columns])
        out.writerow([record.get(c.name, "") for c in assistance.columns])

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for feed in ("roster", "civil_assistance"):
        ingest_feed(con, load_contract(feed), landing, DAY)
    assert con.execute("SELECT count(*) FROM roster WHERE id_number = ?", [mistyped]).fetchall()[0][0] == 0
    run_crosscheck(con, DAY)
    linked = con.execute(
        """SELECT match_method, linked_id_number, household_id, candidates FROM person_links
                            WHERE delivery_date = ? AND feed = 'civil_assistance' AND record_id_number = ?""",
        [DAY, mistyped],
    ).fetchall()
    assert linked == [("name_birth_village", person["id_number"], person["household_id"], 1)]
    issues = con.execute(
        "SELECT count(*) FROM data_quality_issues WHERE delivery_date = ? AND id_number = ?", [DAY, mistyped]
    ).fetchall()[0][0]
    assert issues == 0
    con.close()
