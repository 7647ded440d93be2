"""Cross-check stage on small hand-built warehouse tables: every rule fires, and just short of its threshold does not;
reversals cancel settlements; point-in-time; resolution by ID and by name + birth date + village; data quality.
Longer than most files: each rule has its firing case and its just-short case side by side, on one set of
hand-built households (tests/crosscheck_helpers.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from crosscheck_helpers import (  # noqa: F401  (the hand-built households the tests share)
    ADULT1,
    ADULT2,
    D0,
    VILLAGE,
    WH,
    D,
    _assist,
    _child,
    _claim,
    _income,
    base,
    fresh,
    pid,
    years_ago,
)

from fangfanpin import crosscheck
from fangfanpin.config.policy import load_policy

pytestmark = [pytest.mark.warehouse, pytest.mark.slow(seconds=26)]


def test_base_household_fires_nothing():
    wh = fresh().load()
    result = wh.run()
    assert result.households == 1
    assert wh.hits() == {}
    ind = wh.indicators()
    assert ind["members_living"] == 2 and ind["labour_count"] == 2 and ind["income_position"] == 30000


@pytest.mark.parametrize("net, fires", [(17999.0, True), (18000.0, False)])
def test_inc_low(net, fires):
    wh = fresh()
    _income(wh, 2025, net / 2, net=net)
    wh.load().run()
    hits = wh.hits().get("INC-LOW", [])
    assert bool(hits) is fires
    if fires:
        assert hits[0]["risk_type"] == "其他" and hits[0]["severity"] == "高"
        assert "9,000 元" in hits[0]["explanation_zh"] and "2025 年度" in hits[0]["explanation_zh"]


def test_inc_low_uses_compliant_out_of_pocket_and_newer_visit():
    wh = fresh()
    _income(wh, 2025, 10000.0, net=20000.0, oop=3000.0)  # (20000 − 3000) / 2 = 8500 < 9000
    wh.load().run()
    assert "INC-LOW" in wh.hits()
    wh.add(
        "visit_results",
        D,
        household_id="H1",
        visit_date=D - timedelta(days=3),
        visitor="王",
        conclusion="建议纳入",
        verified_income_per_capita=9500.0,
        verified_out_of_pocket=0.0,
        education_secured=True,
        medical_secured=True,
        housing_secured=True,
        water_secured=True,
    )
    wh.load().run()
    assert "INC-LOW" not in wh.hits()
    assert wh.indicators()["income_source"] == "visit_results"


@pytest.mark.parametrize("latest, fires", [(7000.0, True), (7001.0, False)])
def test_inc_drop(latest, fires):
    wh = fresh()
    _income(wh, 2024, 10000.0, wage=15000.0, business=5000.0)
    _income(wh, 2025, latest, wage=9000.0, business=5000.0)
    wh.load().run()
    hits = wh.hits().get("INC-DROP", [])
    assert bool(hits) is fires
    if fires:
        assert hits[0]["risk_type"] == "因务工就业不稳" and "下降 30%" in hits[0]["explanation_zh"]


@pytest.mark.parametrize(
    "household_type, burden, fires",
    [("一般农户", 24401.0, True), ("一般农户", 24400.0, False), ("脱贫户", 12201.0, True), ("脱贫户", 12200.0, False)],
)
def test_med_burden(household_type, burden, fires):
    wh = fresh(household_type=household_type)
    _claim(wh, "S1", burden=burden / 2)
    _claim(wh, "S2", burden=burden / 2, person=ADULT2)
    _claim(wh, "S0", burden=50000.0, when=D - timedelta(days=365))  # outside the 12-month window
    wh.load().run()
    hits = wh.hits().get("MED-BURDEN", [])
    assert bool(hits) is fires
    if fires and household_type == "脱贫户":
        assert "超过上年农村居民人均可支配收入的 50%（12,200 元）（医保，2026-11-10）" in hits[0]["explanation_zh"]


def test_reversals_cancel_settlements():
    wh = fresh()
    _claim(wh, "S1", burden=30000.0, total=60000.0, visit="住院", when=D0 - timedelta(days=5))
    _claim(
        wh, "R1", burden=-30000.0, total=-60000.0, kind="冲销", original="S1", when=D - timedelta(days=5), delivered=D
    )
    wh.load()
    wh.run(D0)
    assert {"MED-BURDEN", "MED-CATASTROPHIC"} <= set(wh.hits(D0))  # before the reversal was delivered
    wh.run(D)
    assert wh.hits(D) == {}
    ind = wh.indicators()
    assert ind["oop_12m"] == 0 and ind["catastrophic_stays"] == 0


def test_money_is_summed_to_the_fen():
    # 0.1 + 0.2 is 0.30000000000000004 in binary floating point, and parallel threads add in no fixed order: the
    # sums are exact decimals, so a re-run cannot flip the rounding of an amount in an explanation
    wh = fresh()
    for i in range(10):
        _claim(wh, f"S{i}", burden=0.1)  # ten times 0.1 adds up to 0.9999999999999999 in DOUBLE
    wh.load().run()
    assert wh.indicators()["oop_12m"] == 1.0


@pytest.mark.parametrize("total, days_ago, fires", [(50001.0, 89, True), (50000.0, 10, False), (80000.0, 90, False)])
def test_med_catastrophic(total, days_ago, fires):
    wh = fresh()
    _claim(wh, "S1", burden=100.0, total=total, visit="住院", when=D - timedelta(days=days_ago))
    wh.load().run()
    assert bool(wh.hits().get("MED-CATASTROPHIC")) is fires


@pytest.mark.parametrize("status, fires", [("未参保", True), ("正常参保", False)])
def test_med_uninsured(status, fires):
    wh = fresh()
    wh.rows[("medical_enrollment", D0)][1]["enrolment_status"] = status
    wh.load().run()
    hits = wh.hits().get("MED-UNINSURED", [])
    assert bool(hits) is fires
    if fires:
        assert json.loads(hits[0]["evidence"])["uninsured_members"] == 1


@pytest.mark.parametrize("status, fires", [("辍学", True), ("休学", True), ("在读", False)])
def test_edu_dropout(status, fires):
    wh = fresh(size=3)
    _child(wh, 12, student={"stage": "小学", "enrolment_status": status})
    wh.load().run()
    assert bool(wh.hits().get("EDU-DROPOUT")) is fires


@pytest.mark.parametrize("age, extra_days, fires", [(7, 0, True), (6, -1, False), (15, 0, True), (16, 0, False)])
def test_edu_missing(age, extra_days, fires):
    wh = fresh(size=3)
    _child(wh, age, extra_days)  # extra_days −1: turns 7 tomorrow
    wh.load().run()
    assert bool(wh.hits().get("EDU-MISSING")) is fires


def test_edu_missing_not_when_enrolled():
    wh = fresh(size=3)
    _child(wh, 10, student={"stage": "小学", "enrolment_status": "在读"})
    wh.load().run()
    assert "EDU-MISSING" not in wh.hits()


@pytest.mark.parametrize("students, fires", [(2, True), (1, False)])
def test_edu_burden(students, fires):
    wh = fresh(size=4)
    _income(wh, 2025, 13000.0, size=4)  # below 1.5 × 9000 = 13500
    for i in range(students):
        _child(wh, 17, seq=40 + i, student={"stage": "普通高中", "enrolment_status": "在读"})
    wh.load().run()
    assert bool(wh.hits().get("EDU-BURDEN")) is fires


@pytest.mark.parametrize(
    "grade, status, fires",
    [("C", "未改造", True), ("D", "改造中", True), ("B", "未改造", False), ("C", "已竣工", False)],
)
def test_hou_unsafe(grade, status, fires):
    wh = fresh()
    wh.add(
        "housing_safety",
        head_id_number=ADULT1,
        head_name="张H10",
        village_code=VILLAGE,
        safety_grade=grade,
        assessment_date=date(2026, 10, 1),
        renovation_status=status,
    )  # newer than the base A assessment
    wh.load().run()
    assert bool(wh.hits().get("HOU-UNSAFE")) is fires


@pytest.mark.parametrize("days_ago, fires", [(89, True), (90, False)])
def test_civ_new_dibao(days_ago, fires):
    wh = fresh()
    _assist(wh, "农村低保", "在保", D - timedelta(days=days_ago), reason="因病住院")
    wh.load().run()
    hits = wh.hits().get("CIV-NEW-DIBAO", [])
    assert bool(hits) is fires
    if fires:
        assert hits[0]["risk_type"] == "因病"


@pytest.mark.parametrize("days_ago, fires", [(89, True), (90, False)])
def test_civ_temp_aid(days_ago, fires):
    wh = fresh()
    _assist(wh, "临时救助", "已发放", D - timedelta(days=days_ago), amount=3000.0, reason="家中火灾")
    wh.load().run()
    hits = wh.hits().get("CIV-TEMP-AID", [])
    assert bool(hits) is fires
    if fires:
        assert hits[0]["risk_type"] == "因自然灾害" and "3,000 元" in hits[0]["explanation_zh"]


def test_civ_temp_aid_falls_back_to_accident():
    wh = fresh()
    _assist(wh, "临时救助", "已发放", D - timedelta(days=3), amount=800.0, reason="生活困难")
    wh.load().run()
    assert wh.hits()["CIV-TEMP-AID"][0]["risk_type"] == "因意外事故"


@pytest.mark.parametrize("days_ago, fires", [(179, True), (180, False)])
def test_civ_disability(days_ago, fires):
    wh = fresh()
    _assist(wh, "困难残疾人生活补贴", "在保", D - timedelta(days=days_ago))
    wh.load().run()
    assert bool(wh.hits().get("CIV-DISABILITY")) is fires


@pytest.mark.parametrize("later", [0, 1])
def test_records_starting_the_same_day_give_one_answer(later):
    """Two subsidies and two temporary aids of one household starting on the same day: the indicators take the one
    delivered last (here the later row of the file), whichever of the two that is, and a re-run says the same."""
    wh = fresh()
    start = D - timedelta(days=5)
    aids = [("困难残疾人生活补贴", ADULT1, None, None), ("重度残疾人护理补贴", ADULT2, None, None)]
    aids += [("临时救助", ADULT1, 800.0, "生活困难"), ("临时救助", ADULT2, 3000.0, "家中火灾")]
    rows = [aids[0], aids[1], aids[2], aids[3]] if later else [aids[1], aids[0], aids[3], aids[2]]
    for kind, person, amount, reason in rows:
        _assist(
            wh, kind, "已发放" if kind == "临时救助" else "在保", start, reason=reason, amount=amount, person=person
        )
    wh.load().run()
    last_subsidy, last_aid = rows[1], rows[3]
    chosen = wh.indicators()
    assert chosen["disability_subsidy_type"] == last_subsidy[0]
    assert (chosen["temp_aid_amount"], chosen["temp_aid_reason"]) == (last_aid[2], last_aid[3])
    wh.run()
    assert wh.indicators() == chosen


@pytest.mark.parametrize("head", [None, 1])
def test_a_household_whose_rows_disagree_is_placed_by_one_row(head):
    """Two roster rows of one household in different villages: the household is where the head's row says, else
    where its first row says; its size mismatch is reported on that row."""
    other = VILLAGE[:-3] + "999"
    members = tuple(
        {"township_name": f"镇{i}", "village_name": f"村{i}", "village_code": v} for i, v in enumerate((VILLAGE, other))
    )
    wh = base(WH(), size=5, relations=tuple("户主" if i == head else "配偶" for i in range(2)), members=members)
    wh.load().run()
    chosen = 0 if head is None else head
    place = wh.indicators()
    assert (place["village_code"], place["township"], place["village_name"]) == (
        (VILLAGE, other)[chosen],
        f"镇{chosen}",
        f"村{chosen}",
    )
    assert wh.query("SELECT \"row\" FROM data_quality_issues WHERE kind = 'household_size_mismatch'") == [(chosen + 2,)]


@pytest.mark.parametrize(
    "days_ago, per_capita, fires", [(179, 13499.0, True), (180, 13499.0, False), (10, 13500.0, False)]
)
def test_civ_dibao_exit(days_ago, per_capita, fires):
    wh = fresh()
    _income(wh, 2025, per_capita)
    _assist(wh, "农村低保", "停保", date(2025, 1, 1), end=D - timedelta(days=days_ago))
    wh.load().run()
    assert bool(wh.hits().get("CIV-DIBAO-EXIT")) is fires


@pytest.mark.parametrize(
    "labour, dibao, fires",
    [("丧失劳动力", None, True), ("弱劳动力或半劳动力", None, False), ("丧失劳动力", "渐退期", False)],
)
def test_lab_none(labour, dibao, fires):
    wh = fresh(labour=labour)
    if dibao:
        _assist(wh, "农村低保", dibao, date(2024, 1, 1))
    wh.load().run()
    assert bool(wh.hits().get("LAB-NONE")) is fires


@pytest.mark.parametrize(
    "roster_water, visit_water, fires", [(False, None, True), (True, False, True), (True, True, False)]
)
def test_wat_unsafe(roster_water, visit_water, fires):
    wh = fresh(safe_water=roster_water)
    if visit_water is not None:
        wh.add(
            "visit_results",
            D,
            household_id="H1",
            visit_date=D - timedelta(days=1),
            visitor="王",
            conclusion="需进一步核实",
            education_secured=True,
            medical_secured=True,
            housing_secured=True,
            water_secured=visit_water,
        )
    wh.load().run()
    assert bool(wh.hits().get("WAT-UNSAFE")) is fires


def test_monitored_households_kept_apart():
    wh = fresh(
        safe_water=False,
        household_type="监测户",
        risk_identified_date=date(2026, 3, 1),
        risk_eliminated=False,
        risk_type_1="因病",
    )
    base(wh, safe_water=False, hh="H2", ids=(pid(date(1970, 1, 1), 51), pid(date(1971, 1, 1), 62)))
    base(
        wh,
        safe_water=False,
        hh="H3",
        ids=(pid(date(1960, 1, 1), 71), pid(date(1961, 1, 1), 82)),
        risk_identified_date=date(2025, 3, 1),
        risk_eliminated=True,
    )
    wh.load().run()
    monitored = {r["household_id"]: r["monitored"] for r in wh.hits()["WAT-UNSAFE"]}
    assert monitored == {"H1": True, "H2": False, "H3": False}


def test_exclusion_assets():
    wh = fresh()
    wh.add("econ_check", id_number=ADULT1, check_date=D - timedelta(days=5), financial_assets=90001.0, vehicles=1)
    wh.load().run()
    codes = {r[0] for r in wh.query("SELECT check_code FROM exclusion_hits")}
    assert codes == {"EXC-ASSETS", "EXC-VEHICLE"}  # 5 × 9000 × 2 = 90,000


def test_record_delivered_after_date_does_not_change_its_indicators():
    wh = fresh()
    _claim(wh, "S1", burden=1000.0)
    wh.load()
    wh.run(D0)
    before = wh.indicators(day=D0)
    _claim(wh, "S2", burden=40000.0, when=D0 - timedelta(days=3), delivered=D0 + timedelta(days=1))  # late event
    wh.add(
        "housing_safety",
        D0 + timedelta(days=1),
        head_id_number=ADULT1,
        head_name="张H10",
        village_code=VILLAGE,
        safety_grade="D",
        assessment_date=D0 - timedelta(days=2),
        renovation_status="未改造",
    )
    wh.load()
    wh.run(D0)
    assert wh.indicators(day=D0) == before
    wh.run(D)
    after = wh.indicators(day=D)
    assert after["oop_12m"] == 41000.0 and after["housing_grade"] == "D"


def test_links_by_name_birth_village_only_when_unambiguous():
    wh = fresh()
    twin_birth = date(1990, 2, 2)
    base(wh, hh="H2", ids=(pid(twin_birth, 91), pid(date(1991, 1, 1), 92)))  # 张H20, born 1990-02-02
    base(wh, hh="H3", ids=(pid(date(1950, 1, 1), 93), pid(twin_birth, 94)))  # 张H31, born 1990-02-02
    # Records whose ID is not in the roster (a wrong order code), named like a roster person.
    unique_id, ambiguous_id = pid(twin_birth, 555), pid(twin_birth, 557)
    wh.add(
        "civil_assistance",
        id_number=unique_id,
        name="张H20",
        village_code=VILLAGE,
        assistance_type="农村低保",
        assistance_status="在保",
        start_date=date(2026, 1, 1),
    )
    for _name in ("张H31", "张H31"):
        pass
    wh.add(
        "roster",
        id_number=pid(twin_birth, 95),
        name="张H31",
        birth_date=twin_birth,
        sex="男",
        relation="之子",
        county_name="杭锦旗",
        township_name="巴拉贡镇",
        village_name="查干白村委会",
        village_code=VILLAGE,
        household_id="H1",
        household_type="一般农户",
        health="健康",
        labour_skill="普通劳动力",
        household_size=2,
        person_status="正常",
    )
    wh.add(
        "civil_assistance",
        id_number=ambiguous_id,
        name="张H31",
        village_code=VILLAGE,
        assistance_type="临时救助",
        assistance_status="已发放",
        start_date=date(2026, 11, 1),
    )
    wh.add(
        "civil_assistance",
        id_number=pid(twin_birth, 559),
        name="张H20",
        village_code="150625101201",
        assistance_type="临时救助",
        assistance_status="已发放",
        start_date=date(2026, 11, 2),
    )  # another village
    wh.load().run()
    links = {
        r[0]: r[1:]
        for r in wh.query(
            "SELECT record_id_number, match_method, household_id, candidates FROM person_links WHERE feed = 'civil_assistance'"
        )
    }
    assert links[unique_id] == ("name_birth_village", "H2", 1)
    assert links[ambiguous_id] == ("unmatched", None, 2)
    assert links[pid(twin_birth, 559)][0] == "unmatched"
    kinds = {r[0] for r in wh.query("SELECT kind FROM data_quality_issues WHERE feed = 'civil_assistance'")}
    assert kinds == {"ambiguous_name_match", "unmatched_record"}


def test_data_quality_checks():
    wh = fresh(size=3)
    dead = pid(date(1940, 1, 1), 97)
    wh.add(
        "roster",
        id_number=dead,
        name="张老",
        sex="女",
        birth_date=date(1940, 1, 1),
        relation="之母",
        county_name="杭锦旗",
        township_name="巴拉贡镇",
        village_name="查干白村委会",
        village_code=VILLAGE,
        household_id="H1",
        household_type="一般农户",
        health="健康",
        labour_skill="无劳动力",
        household_size=3,
        person_status="死亡",
    )
    wh.add(
        "civil_assistance",
        id_number=dead,
        name="张老",
        village_code=VILLAGE,
        assistance_type="农村低保",
        assistance_status="在保",
        start_date=date(2020, 1, 1),
    )
    wh.rows[("roster", D0)][0]["sex"] = "女"  # ADULT1 is male by the ID number
    wh.rows[("roster", D0)][1]["birth_date"] = date(1982, 6, 8)
    old = _child(wh, 20, seq=35, student={"stage": "初中", "enrolment_status": "在读"})
    stranger = pid(date(1977, 7, 7), 99)
    _claim(wh, "S9", burden=10.0, person=stranger, delivered=D)
    wh.load().run()
    issues = {
        r[0]: r[1:]
        for r in wh.query(
            "SELECT kind, fix_by, description_zh, id_number_masked FROM data_quality_issues ORDER BY kind"
        )
    }
    assert issues["inactive_person_receiving"][0] == "民政局" and "死亡" in issues["inactive_person_receiving"][1]
    assert issues["id_sex_mismatch"][0] == "乡村振兴局"
    assert "1982-06-08" in issues["id_birth_mismatch"][1]
    assert issues["household_size_mismatch"][0] == "乡村振兴局"
    assert issues["student_overage"][0] == "教育局" and "20 岁" in issues["student_overage"][1]
    assert issues["settlement_outside_roster"][0] == "医疗保障局"
    assert issues["settlement_outside_roster"][2] == stranger[:6] + "********" + stranger[-4:]
    assert old


def test_rerun_is_idempotent():
    wh = fresh(safe_water=False)
    wh.load()
    first = wh.run()
    second = wh.run()
    assert first == second
    assert wh.query("SELECT count(*) FROM rule_hits")[0][0] == 1


def test_settlements_older_than_the_medical_windows_change_no_figure(monkeypatch):
    # the cross-check leaves out settlements no figure of the day can read (sql/links.sql): every output must be what
    # linking the whole history gives, with settlements on the window's edges, reversals and corrected versions
    wh = fresh()
    window = crosscheck.links_params(D, load_policy())["claims_window"]
    _claim(wh, "OLD", burden=90000.0, total=90000.0, visit="住院", when=D - timedelta(days=window + 35))
    _claim(wh, "EDGE-OUT", burden=20000.0, when=D - timedelta(days=window))
    _claim(wh, "EDGE-IN", burden=20000.0, when=D - timedelta(days=window - 1))
    _claim(wh, "IN", burden=9000.0, total=60000.0, visit="住院", when=D - timedelta(days=30))
    _claim(wh, "R-OLD", burden=-5000.0, kind="冲销", original="IN", when=D - timedelta(days=window + 135))
    _claim(wh, "MOVED-OUT", burden=7000.0, when=D - timedelta(days=20))  # its correction, delivered later: old
    _claim(wh, "MOVED-OUT", burden=7000.0, when=D - timedelta(days=window + 335), delivered=D - timedelta(days=5))
    _claim(wh, "MOVED-IN", burden=4000.0, when=D - timedelta(days=window + 335))  # corrected into the window
    _claim(wh, "MOVED-IN", burden=4000.0, when=D - timedelta(days=10), delivered=D - timedelta(days=5))
    _claim(wh, "TODAY-OLD", burden=3000.0, when=D - timedelta(days=900), delivered=D, person=pid(date(1950, 1, 1), 9))
    _claim(wh, None, burden=1000.0, when=D - timedelta(days=40))  # no settlement number: kept as the macro keeps it
    wh.load()
    outputs = {t: f"SELECT * FROM {t} ORDER BY ALL" for t in crosscheck.OUTPUT_TABLES}
    in_force = "SELECT rec FROM cc_claims_in_force ORDER BY 1"

    wh.run()
    windowed = {t: wh.query(sql) for t, sql in outputs.items()}
    kept = {sid for (sid,) in wh.query("SELECT settlement_id FROM cc_claims_in_force")}
    assert kept == {"EDGE-IN", "IN", "R-OLD", "MOVED-OUT", "MOVED-IN", "TODAY-OLD", None}  # a version was in the window
    assert wh.indicators()["oop_12m"] == 20000.0 + 9000.0 - 5000.0 + 4000.0 + 1000.0

    whole_history = crosscheck.links_params
    monkeypatch.setattr(
        crosscheck, "links_params", lambda day, policy: whole_history(day, policy) | {"claims_window": 10**6}
    )
    wh.run()
    assert {t: wh.query(sql) for t, sql in outputs.items()} == windowed
    assert wh.query(in_force) == wh.query(
        "SELECT cc_rec(_delivery_date, _file_seq, _row) FROM medical_claims_asof(?::DATE) ORDER BY 1", [D]
    )  # with the whole history, the versions in force are the macro's
