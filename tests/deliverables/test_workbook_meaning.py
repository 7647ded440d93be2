"""The workbook says what it means, read back from the files: 新增预警 holds only households newly flagged (not
flagged on the previous delivery date, not declined today), 工作概览 gives each state's cases now and today's change,
days are counted in working days with the policy's holidays, 逾期提醒 names the limit that was passed, 待确认 shows
the publication each case went through, and an elimination batch gets its own notice.

The session warehouse (tests/deliverables/conftest.py) is copied once for this module and given the situations the
short generated loop does not reach: households flagged, unflagged and declined on chosen dates, cases overdue under
each kind of limit, a case whose publication passed and a 绿色通道 case, a batch mixing inclusion and elimination."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import openpyxl
import pytest
import yaml
from deliverables_helpers import COUNTIES, END, FLAGGED, sheet_dicts, unflag, workbook_path

from fangfanpin.config.policy import DEFAULT_POLICY, load_policy, parse_policy
from fangfanpin.deliverables import write_county_outputs
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days

pytestmark = pytest.mark.warehouse

COUNTY = COUNTIES[0]
HOLIDAYS = [date(2026, 11, 16), date(2026, 11, 23)]  # two Mondays: one in the overdue window, one in the tasks'
OPENED = date(2026, 9, 28)  # a case opened before the National Day holidays, still awaiting the county's decision


def _one(con, sql: str, params: dict | list) -> str:
    got = con.execute(sql, params).fetchall()
    assert got and got[0][0], sql
    return got[0][0]


@pytest.fixture(scope="module")
def story(warehouse, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("meaning")
    db = root / "wh.duckdb"
    shutil.copy(warehouse / "wh.duckdb", db)
    con = duckdb.connect(str(db))
    s: dict = {"db": db, "root": root}
    try:
        p = {"d": END, "c": COUNTY}
        s["prev"] = prev = _one(con, "SELECT max(as_of_date) FROM household_scores WHERE as_of_date < $d", {"d": END})
        flagged_now = f"""household_id IN (SELECT household_id FROM household_scores WHERE as_of_date = $d
                          AND county_code = $c AND NOT monitored AND {FLAGGED})"""
        declined_before = con.execute(
            f"""SELECT household_id FROM cases_asof($d) WHERE county_code = $c AND state = '不予纳入'
                AND state_since < $d AND {flagged_now} ORDER BY 1 LIMIT 3""",
            p,
        ).fetchall()
        new_again, new_first, continuing = (r[0] for r in declined_before)
        declined_today = _one(
            con,
            f"""SELECT min(household_id) FROM case_status_daily WHERE as_of_date = $d AND county_code = $c
                AND case_status = '不予纳入' AND state_since = $d AND {flagged_now}""",
            p,
        )
        with_case = _one(
            con,
            f"""SELECT min(household_id) FROM case_status_daily WHERE as_of_date = $d AND county_code = $c
                AND case_status = '待排查' AND opened_date < $d AND {flagged_now}""",
            p,
        )
        for household in (new_again, declined_today, with_case):  # not flagged on the previous date
            unflag(con, "as_of_date = ? AND household_id = ?", [prev, household])
        unflag(con, "as_of_date < ? AND household_id = ?", [END, new_first])
        s["alerts"] = {
            "new_again": new_again,
            "new_first": new_first,
            "continuing": continuing,
            "declined_today": declined_today,
            "with_case": with_case,
        }
        s["first_flag"] = _one(
            con, f"SELECT min(as_of_date) FROM household_scores WHERE household_id = ? AND {FLAGGED}", [new_again]
        )

        # overdue: a visit past its 5 working days, and a case past the 15-day total, which it passed before it
        # reached 待确认; a case whose publication passed, awaiting the decision; a 绿色通道 case not yet published
        cases = [
            r[0]
            for r in con.execute(
                """SELECT case_id FROM case_status_daily WHERE as_of_date = $d AND county_code = $c
               AND case_status = '待排查' AND household_id <> $h ORDER BY 1 LIMIT 2""",
                p | {"h": with_case},
            ).fetchall()
        ]
        published = [
            r[0]
            for r in con.execute(
                "SELECT case_id FROM case_status_daily WHERE as_of_date = $d AND county_code = $c "
                "AND case_status = '公示中' ORDER BY 1 LIMIT 2",
                p,
            ).fetchall()
        ]
        s["late_visit"], s["green"] = cases
        s["late_total"], s["passed"] = published
        wf = load_policy().workflow
        s["total_due"] = add_working_days(OPENED, wf.total_working_days, wf)
        update = "UPDATE case_status_daily SET {} WHERE as_of_date = $d AND case_id = $case"
        con.execute(
            update.format("state_since = DATE '2026-11-05', due_date = DATE '2026-11-12', overdue = true"),
            {"d": END, "case": s["late_visit"]},
        )
        con.execute(
            update.format(
                "case_status = '待确认', opened_date = $o, state_since = $prev, due_date = $due, overdue = true"
            ),
            {"d": END, "case": s["late_total"], "o": OPENED, "prev": prev, "due": s["total_due"]},
        )
        con.execute(
            "INSERT INTO publication_outcomes SELECT batch_id, household_id, true, $d, $d FROM publication_members "
            "WHERE case_id = $case",
            {"case": s["passed"], "d": END},
        )
        con.execute(update.format("case_status = '待确认', batch_id = NULL"), {"d": END, "case": s["passed"]})
        con.execute(update.format("case_status = '待确认', green_channel = true"), {"d": END, "case": s["green"]})

        # a batch of END in one village: one household proposed for elimination, one for inclusion
        village = _one(
            con, "SELECT min(village_code) FROM household_indicators WHERE as_of_date = $d AND county_code = $c", p
        )
        members = con.execute(
            """SELECT household_id, case_id FROM case_status_daily WHERE as_of_date = $d AND county_code = $c
               AND case_status = '待排查' ORDER BY 1 DESC LIMIT 2""",
            p,
        ).fetchall()
        batch = f"GS-{village}-TEST"
        con.execute(
            "INSERT INTO publication_batches VALUES (?, ?, NULL, ?, ?, ?, ?)",
            [batch, COUNTY, village, END + timedelta(days=1), END + timedelta(days=5), END],
        )
        for (household, case), purpose in zip(members, ("风险消除", "纳入")):
            con.execute(
                "INSERT INTO publication_members VALUES (?, ?, ?, ?, ?)", [batch, case, household, purpose, END]
            )
        for table in ("roster", "household_indicators"):  # the divisions file's name of a gacha
            con.execute(f"UPDATE {table} SET village_name = '乌日根嘎查村' WHERE village_code = ?", [village])
        s["notice"] = {"village": village, "eliminated": members[0][0], "included": members[1][0]}
        s["names"] = dict(con.execute("SELECT household_id, name FROM roster WHERE relation = '户主'").fetchall())

        holiday_policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
        holiday_policy["workflow"]["holidays"] += HOLIDAYS
        for name, policy in (("plain", load_policy()), ("holidays", parse_policy(holiday_policy))):
            write_county_outputs(con, END, root / name, policy, run_id="meaning")
            s[name] = openpyxl.load_workbook(workbook_path(root / name, END, COUNTY))
    finally:
        con.close()
    return s


def _column(ws, header: str):
    return [c.value for c in ws[1]].index(header) + 1


# --------------------------------------------------------------------------------------------------------- 新增预警
def test_new_alerts_are_only_households_newly_flagged(story):
    """Listed: flagged today and not on the previous delivery date, with the first date ever flagged; not listed: a
    household flagged both days (持续预警), one declined today, one whose open case began before today."""
    rows = {r["户编号"]: r for r in sheet_dicts(story["plain"]["新增预警"])}
    a = story["alerts"]
    assert a["new_again"] in rows and a["new_first"] in rows
    assert not {a["continuing"], a["declined_today"], a["with_case"]} & set(rows)
    assert rows[a["new_again"]]["首次预警日期"] == datetime.combine(story["first_flag"], datetime.min.time())
    assert story["first_flag"] < story["prev"]
    assert rows[a["new_first"]]["首次预警日期"] == datetime(END.year, END.month, END.day)
    with duckdb.connect(str(story["db"]), read_only=True) as con:
        before = {
            r[0]
            for r in con.execute(
                f"SELECT household_id FROM household_scores WHERE as_of_date = ? AND {FLAGGED}", [story["prev"]]
            ).fetchall()
        }
        continuing = con.execute(
            f"""SELECT count(*) FROM household_scores WHERE as_of_date = ? AND county_code = ? AND NOT monitored
                AND {FLAGGED} AND household_id IN (SELECT household_id FROM household_scores
                                                   WHERE as_of_date = ? AND {FLAGGED})""",
            [END, COUNTY, story["prev"]],
        ).fetchall()[0][0]
    assert not set(rows) & before
    overview = {r["项目"]: r for r in sheet_dicts(story["plain"]["工作概览"])}
    assert overview["其中：新增预警"]["数值"] == len(rows)
    assert overview["其中：持续预警"]["数值"] == continuing > 0
    assert overview["其中：今日不予纳入"]["数值"] >= 1 and overview["其中：已有进行中案件"]["数值"] >= 1
    parts = ("其中：新增预警", "其中：持续预警", "其中：今日不予纳入", "其中：已有进行中案件")
    assert overview["今日预警户数"]["数值"] == sum(overview[k]["数值"] for k in parts)


def test_model_probability_is_a_percentage_and_explained(story):
    wb = story["plain"]
    for ws in wb.worksheets:
        assert not [h for h in (c.value for c in ws[1]) if "评分" in str(h)], ws.title
    with duckdb.connect(str(story["db"]), read_only=True) as con:
        p = dict(
            con.execute("SELECT household_id, probability FROM household_scores WHERE as_of_date = ?", [END]).fetchall()
        )
    checked = 0
    for sheet in ("新增预警", "待确认"):
        ws, col = wb[sheet], _column(wb[sheet], "模型概率")
        assert _column(ws, "风险等级") and _column(ws, "规则严重程度")
        for r in range(2, ws.max_row + 1):
            cell, household = ws.cell(r, col), ws.cell(r, _column(ws, "户编号")).value
            if p.get(household) is not None:
                assert cell.number_format == "0.00%" and cell.value == pytest.approx(p[household])
                checked += 1
    assert checked
    notes = {r["含义"]: r["阈值/取值"] for r in sheet_dicts(wb["说明"])}
    assert "不是评分" in notes["模型概率"] and "天内被确认为监测对象的概率" in notes["模型概率"]


# ----------------------------------------------------------------------------------------------------------- 工作概览
def test_overview_gives_each_state_now_and_todays_change(outputs, warehouse):
    out, _, _ = outputs
    rows = sheet_dicts(openpyxl.load_workbook(workbook_path(out, END, COUNTY))["工作概览"])
    states = {r["项目"]: r for r in rows if r["类别"] == "案件状态（现有件数）"}
    assert list(states) == list(S.STATES)
    with duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True) as con:
        before = con.execute(
            "SELECT max(processed_date) FROM workflow_runs WHERE processed_date < ?", [END]
        ).fetchall()[0][0]

        def count(day):
            return dict(
                con.execute(
                    "SELECT state, count(*) FROM cases_asof(?::DATE) WHERE county_code = ? GROUP BY 1", [day, COUNTY]
                ).fetchall()
            )

        now, then = count(END), count(before)
    for state, r in states.items():
        assert r["数值"] == now.get(state, 0) and r["今日变化"] == now.get(state, 0) - then.get(state, 0), state
    assert any(r["今日变化"] for r in states.values())
    assert {r["类别"] for r in rows} >= {"乡镇案件（现有件数）", "今日预警（非监测户）", "今日工作"}


# --------------------------------------------------------------------------------------------- working days, limits
def _working_days(start: date, end: date, holidays: list[date]) -> int:
    """Working days in (start, end]; negative when end < start (no make-up day falls in these windows)."""
    if end < start:
        return -_working_days(end, start, holidays)
    return int(np.busday_count(start + timedelta(days=1), end + timedelta(days=1), holidays=holidays))


@pytest.mark.parametrize("policy", ["plain", "holidays"])
def test_days_left_and_days_overdue_count_working_days(story, policy):
    holidays = sorted(load_policy().workflow.holidays) + (HOLIDAYS if policy == "holidays" else [])
    tasks = sheet_dicts(story[policy]["排查任务"])
    assert tasks
    for r in tasks:
        assert r["剩余天数（工作日）"] == _working_days(END, r["截止日期"].date(), holidays), r["任务编号"]
    overdue = sheet_dicts(story[policy]["逾期提醒"])
    assert [r["逾期天数（工作日）"] for r in overdue] == sorted(
        (r["逾期天数（工作日）"] for r in overdue), reverse=True
    )
    for r in overdue:
        assert r["逾期天数（工作日）"] == _working_days(r["时限截止日期"].date(), END, holidays) > 0
    visit = next(r for r in overdue if r["案件编号"] == story["late_visit"])
    assert visit["逾期天数（工作日）"] == (6 if policy == "plain" else 5)  # 11-13 to 11-20, less the holiday 11-16
    assert overdue[0]["案件编号"] == story["late_total"]


def test_overdue_names_the_limit_passed_and_where_it_counts_from(story):
    by_case = {r["案件编号"]: r for r in sheet_dicts(story["plain"]["逾期提醒"])}
    visit, total = by_case[story["late_visit"]], by_case[story["late_total"]]
    assert visit["超过的时限"] == "待排查走访时限 5 个工作日（自进入待排查起）"
    assert visit["时限起算日期"] == visit["进入状态日期"] == datetime(2026, 11, 5)
    assert visit["时限截止日期"] == datetime(2026, 11, 12)
    # the total limit counts from the opening, so its due date lies before the state began: the row says so
    assert total["超过的时限"].startswith("立案至县级决定总时限 15 个工作日（自立案日起）")
    assert total["超过的时限"].endswith("进入本状态时已超过此时限")
    assert total["时限起算日期"] == datetime.combine(OPENED, datetime.min.time())
    assert total["时限截止日期"] == datetime.combine(story["total_due"], datetime.min.time()) < total["进入状态日期"]


# ------------------------------------------------------------------------------------------------------------ 待确认
def test_to_confirm_shows_the_publication_or_the_green_channel(story):
    rows = {r["案件编号"]: r for r in sheet_dicts(story["plain"]["待确认"])}
    with duckdb.connect(str(story["db"]), read_only=True) as con:
        batch, start, end = con.execute(
            "SELECT b.batch_id, b.start_date, b.end_date FROM publication_members m JOIN publication_batches b "
            "USING (batch_id) WHERE m.case_id = ?",
            [story["passed"]],
        ).fetchall()[0]
    passed, green = rows[story["passed"]], rows[story["green"]]
    assert (passed["公示批次"], passed["公示开始日期"].date(), passed["公示结束日期"].date()) == (batch, start, end)
    assert passed["公示结果"] == "公示通过"
    assert green["公示批次"] is None and green["绿色通道"] == "是" and "绿色通道" in green["公示结果"]
    assert all(r["公示结果"] for r in rows.values())


# ------------------------------------------------------------------------------------------------------------ notices
def test_an_elimination_batch_gets_its_own_notice(story):
    from pypdf import PdfReader

    n = story["notice"]
    folder = story["root"] / "plain" / END.isoformat() / COUNTY / "公示"
    texts = {}
    for tag in ("拟消除风险名单公示", "拟纳入名单公示"):
        (pdf,) = folder.glob(f"{n['village']}_*_{tag}.pdf")
        assert pdf.name == f"{n['village']}_乌日根嘎查_{tag}.pdf"
        texts[tag] = "".join(p.extract_text() for p in PdfReader(pdf).pages).replace(" ", "").replace("\n", "")
    eliminated, included = story["names"][n["eliminated"]], story["names"][n["included"]]
    elimination, inclusion = texts["拟消除风险名单公示"], texts["拟纳入名单公示"]
    assert elimination.startswith("乌日根嘎查防止返贫监测对象拟消除风险名单公示") and "拟纳入" not in elimination
    assert eliminated in elimination and included not in elimination and "纳入监测时间" in elimination
    assert inclusion.startswith("乌日根嘎查防止返贫监测对象拟纳入名单公示") and included in inclusion
    assert eliminated not in inclusion
    assert all(t.rstrip().endswith(f"乌日根嘎查村民委员会{END.year}年{END.month}月{END.day}日") for t in texts.values())
