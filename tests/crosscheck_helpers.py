"""Small hand-built warehouses for the cross-check stage's tests: feed rows added by hand, loaded as ingest would
store them, then the cross-check run on them (tests/crosscheck/test_crosscheck.py and the tests that reuse its
households)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
from stdnum.cn.ric import calc_check_digit

from fangfanpin.crosscheck import ensure_schema, run_crosscheck
from fangfanpin.data_contracts import load_contract

D = date(2026, 11, 20)
D0 = date(2026, 11, 1)  # the day the base data is delivered
VILLAGE = "150625101200"


def pid(birth: date, seq: int) -> str:
    """A valid 18-digit ID: odd seq = male."""
    body = f"150625{birth:%Y%m%d}{seq:03d}"
    return body + calc_check_digit(body)


def years_ago(n: int, extra_days: int = 0) -> date:
    return date(D.year - n, D.month, D.day) - timedelta(days=extra_days)


class WH:
    """A warehouse with hand-built feed rows."""

    def __init__(self):
        self.con = duckdb.connect()
        ensure_schema(self.con)
        self.rows: dict[tuple[str, date], list[dict]] = {}

    def add(self, feed: str, day: date = D0, **values) -> None:
        self.rows.setdefault((feed, day), []).append(values)

    def load(self) -> WH:
        for (feed, day), rows in self.rows.items():
            contract = load_contract(feed)
            names = contract.names
            for i, row in enumerate(rows):
                unknown = set(row) - set(names)
                assert not unknown, unknown
                self.con.execute(
                    f"INSERT INTO {feed} VALUES ({', '.join('?' * (len(names) + 6))})",
                    [row.get(n) for n in names] + [day, f"{feed}.csv", 0, i + 2, None, "150625"],
                ).fetchall()
            if contract.kind == "snapshot":
                self.con.execute(
                    "INSERT OR REPLACE INTO snapshot_versions VALUES (?, ?, '150625', ?, NULL, 'applied', NULL)",
                    [feed, day, len(rows)],
                ).fetchall()
        self.rows = {}
        return self

    def run(self, day: date = D):
        return run_crosscheck(self.con, day)

    def hits(self, day: date = D) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        cur = self.con.execute("SELECT * FROM rule_hits WHERE as_of_date = ? ORDER BY household_id, rule_code", [day])
        cols = [c[0] for c in cur.description]
        for row in cur.fetchall():
            r = dict(zip(cols, row))
            out.setdefault(r["rule_code"], []).append(r)
        return out

    def indicators(self, household: str = "H1", day: date = D) -> dict:
        cur = self.con.execute(
            "SELECT * FROM household_indicators WHERE as_of_date = ? AND household_id = ?", [day, household]
        )
        cols = [c[0] for c in cur.description]
        return dict(zip(cols, cur.fetchall()[0]))

    def query(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


ADULT1, ADULT2 = pid(date(1980, 3, 5), 11), pid(date(1982, 6, 7), 22)


def base(
    wh: WH,
    *,
    household_type="一般农户",
    labour="普通劳动力",
    safe_water=True,
    size=2,
    hh="H1",
    ids=(ADULT1, ADULT2),
    relations=("户主", "配偶"),
    members=({}, {}),
    **extra,
) -> WH:
    """A two-adult household, fully enrolled, income comfortably above every line, safe housing. ``relations`` and
    ``members`` (roster values of each member) tell its members apart."""
    common = (
        dict(
            county_name="杭锦旗",
            township_name="巴拉贡镇",
            village_name="查干白村委会",
            village_code=VILLAGE,
            household_id=hh,
            household_type=household_type,
            health="健康",
            labour_skill=labour,
            safe_water=safe_water,
            household_size=size,
            person_status="正常",
        )
        | extra
    )
    for i, (person, relation, own) in enumerate(zip(ids, relations, members)):
        birth = date(int(person[6:10]), int(person[10:12]), int(person[12:14]))
        wh.add(
            "roster",
            id_number=person,
            name=f"张{hh}{i}",
            sex="男" if int(person[16]) % 2 else "女",
            birth_date=birth,
            relation=relation,
            **(common | own),
        )
        wh.add(
            "medical_enrollment",
            id_number=person,
            name=f"张{hh}{i}",
            insurance_year=D.year,
            scheme="城乡居民基本医疗保险",
            enrolment_status="正常参保",
        )
    wh.add(
        "household_income",
        household_id=hh,
        year=2025,
        household_size=size,
        net_income=60000.0,
        net_income_per_capita=30000.0,
        wage_income=40000.0,
        business_income=20000.0,
    )
    wh.add(
        "household_income",
        household_id=hh,
        year=2024,
        household_size=size,
        net_income=60000.0,
        net_income_per_capita=30000.0,
        wage_income=40000.0,
        business_income=20000.0,
    )
    wh.add(
        "housing_safety",
        head_id_number=ids[0],
        head_name=f"张{hh}0",
        village_code=VILLAGE,
        safety_grade="A",
        assessment_date=date(2026, 5, 1),
        renovation_status="无需改造",
    )
    return wh


def fresh(**kw) -> WH:
    return base(WH(), **kw)


def _income(wh: WH, year: int, per_capita: float, *, size=2, net=None, oop=0.0, wage=None, business=None):
    wh.rows[("household_income", D0)] = [r for r in wh.rows[("household_income", D0)] if r["year"] != year]
    wh.add(
        "household_income",
        household_id="H1",
        year=year,
        household_size=size,
        net_income=net if net is not None else per_capita * size,
        net_income_per_capita=per_capita,
        compliant_out_of_pocket=oop,
        wage_income=wage,
        business_income=business,
    )


def _claim(
    wh: WH,
    sid: str,
    *,
    burden: float,
    total: float | None = None,
    when: date = D - timedelta(days=10),
    delivered: date = D0,
    kind="正常",
    original=None,
    visit="普通门诊",
    person=ADULT1,
):
    total = total if total is not None else burden
    wh.add(
        "medical_claims",
        delivered,
        settlement_id=sid,
        original_settlement_id=original,
        settlement_type=kind,
        id_number=person,
        name="张H10",
        settlement_date=when,
        visit_type=visit,
        total_cost=total,
        basic_insurance_paid=total - burden,
        personal_burden=burden,
    )


def _child(wh: WH, age_years: int, extra_days: int = 0, seq: int = 33, student: dict | None = None) -> str:
    birth = years_ago(age_years, extra_days)
    person = pid(birth, seq)
    wh.add(
        "roster",
        id_number=person,
        name=f"张子{seq}",
        sex="男",
        birth_date=birth,
        relation="之子",
        county_name="杭锦旗",
        township_name="巴拉贡镇",
        village_name="查干白村委会",
        village_code=VILLAGE,
        household_id="H1",
        household_type="一般农户",
        health="健康",
        labour_skill="无劳动力",
        household_size=3,
        person_status="正常",
        safe_water=True,
    )
    wh.add(
        "medical_enrollment",
        id_number=person,
        name=f"张子{seq}",
        insurance_year=D.year,
        scheme="城乡居民基本医疗保险",
        enrolment_status="正常参保",
    )
    if student:
        wh.add("students", id_number=person, name=f"张子{seq}", **student)
    return person


def _assist(
    wh: WH,
    kind: str,
    status: str,
    start: date,
    end: date | None = None,
    reason: str | None = None,
    amount=None,
    person: str = ADULT1,
):
    wh.add(
        "civil_assistance",
        id_number=person,
        name="张H10",
        village_code=VILLAGE,
        assistance_type=kind,
        assistance_status=status,
        start_date=start,
        end_date=end,
        reason=reason,
        one_off_amount=amount,
    )
