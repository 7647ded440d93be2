"""The daily overview (deliverables/daily_overview.py) on a copy of the deliverables' session warehouse
(tests/deliverables/conftest.py), made to show what the analyst looks for: one feed late, cases overdue by known
working days, and an ID number typed into a township's name. Every figure is checked against the warehouse directly,
the command's summary or the 逾期提醒 sheet."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from crosscheck_helpers import pid
from deliverables_helpers import END, ID_RE
from privacy_helpers import full_id_numbers

from fangfanpin.config.policy import load_policy
from fangfanpin.core.privacy import mask_id
from fangfanpin.crosscheck.kinds import QUALITY_KINDS_ZH
from fangfanpin.deliverables import data as D
from fangfanpin.deliverables.daily_overview import daily_overview, summary_markdown
from fangfanpin.deliverables.sheets.deadlines import limit_names
from fangfanpin.deliverables.sheets.deadlines import overdue as overdue_sheet
from fangfanpin.deliverables.workdays import prepare_workdays
from fangfanpin.ingest.freshness import STATUS_ZH
from fangfanpin.pipeline.run_summary import summarize
from fangfanpin.workflow.calendar import working_days_between

pytestmark = pytest.mark.warehouse

LATE_FEED, LATE_TITLE, LATE_AGE = "medical_claims", "医疗费用结算", 15  # cadence 10 days: late, not yet overdue
DUE = [END - timedelta(days=n) for n in (1, 7, 28, 7)]  # Thursday, Friday a week before, … (END is a Friday)
PLANTED_ID = pid(date(1980, 1, 1), 123)


@pytest.fixture(scope="module")
def overview_wh(warehouse, tmp_path_factory) -> dict:
    """The copy, and what was planted in it."""
    path = tmp_path_factory.mktemp("overview") / "wh.duckdb"
    shutil.copy(warehouse / "wh.duckdb", path)
    with duckdb.connect(str(path)) as con:
        # the late feed: its deliveries of the last LATE_AGE days refused whole, one applied LATE_AGE days ago
        con.execute(
            "UPDATE deliveries SET status = 'rejected' WHERE feed = ? AND delivery_date > ?",
            [LATE_FEED, END - timedelta(days=LATE_AGE)],
        )
        con.execute(
            "INSERT OR REPLACE INTO deliveries (feed, delivery_date, files, status) VALUES (?, ?, '[]', 'applied')",
            [LATE_FEED, END - timedelta(days=LATE_AGE)],
        )
        # open cases past their due dates
        cases = [
            r[0]
            for r in con.execute(
                """SELECT case_id FROM case_status_daily WHERE as_of_date = ? AND list_contains(?, case_status)
                   ORDER BY case_id LIMIT ?""",
                [END, list(limit_names(load_policy())), len(DUE)],
            ).fetchall()
        ]
        for case, due in zip(cases, DUE):
            con.execute(
                "UPDATE case_status_daily SET overdue = true, due_date = ? WHERE as_of_date = ? AND case_id = ?",
                [due, END, case],
            )
        # an ID number typed into the township of a case and of a household newly warned today
        (warned,) = con.execute(f"SELECT min(household_id) FROM {D.WARNINGS} WHERE new", {"days": [END]}).fetchall()[0]
        town = f"测试镇{PLANTED_ID}"
        con.execute(
            "UPDATE household_scores SET township = ? WHERE as_of_date = ? AND household_id = ?", [town, END, warned]
        )
        con.execute(
            "UPDATE case_status_daily SET township = ? WHERE as_of_date = ? AND case_id = ?", [town, END, cases[0]]
        )
    return {"path": path, "cases": cases, "warned": warned}


@pytest.fixture(scope="module")
def overview(overview_wh):
    with duckdb.connect(str(overview_wh["path"])) as con:
        return daily_overview(con, END, load_policy())


@pytest.fixture()
def con(overview_wh):
    with duckdb.connect(str(overview_wh["path"]), read_only=True) as c:
        yield c


def test_a_late_feed_shows_late_with_its_newest_delivery_and_age(overview):
    feeds = {r["数据集（报送部门）"]: r for r in overview.feeds.rows}
    late = feeds[f"{LATE_TITLE}（医疗保障局）"]
    assert late["时效"] == STATUS_ZH["late"] == "迟交"
    assert late["最近交付"] == END - timedelta(days=LATE_AGE) and late["距今天数"] == LATE_AGE
    assert late["周期（天）"] == 10 and late["今日交付"] == "整批拒收"
    assert overview.numbers["feeds_late"] == 1
    statuses = overview.feeds.column("时效")
    assert statuses.index("迟交") < statuses.index("按时")  # the late ones first
    assert any(line.startswith(LATE_TITLE) and "距今 15 天" in line for line in overview.late_feeds)
    assert "迟交 1 个" in summary_markdown(overview) and LATE_TITLE in summary_markdown(overview)


def test_rows_today_are_the_deliveries_and_the_quarantine(overview, con):
    read, loaded, quarantined = con.execute(
        "SELECT sum(rows_read), sum(rows_loaded), sum(quarantined) FROM deliveries WHERE delivery_date = ?", [END]
    ).fetchall()[0]
    assert overview.numbers["rows_loaded"] == loaded > 0 and overview.numbers["rows_read"] == read
    assert f"隔离 {quarantined:,} 行（占读取行的 {100 * quarantined / read:.1f}%）" in summary_markdown(overview)
    by_feed = dict(
        con.execute("SELECT feed, count(*) FROM quarantine WHERE delivery_date = ? GROUP BY 1", [END]).fetchall()
    )
    assert overview.numbers["rows_quarantined"] == quarantined == sum(by_feed.values()) > 0
    roster = next(r for r in overview.feeds.rows if r["数据集（报送部门）"].startswith("农户及家庭成员信息"))
    read = con.execute(
        "SELECT rows_read FROM deliveries WHERE feed = 'roster' AND delivery_date = ?", [END]
    ).fetchall()[0][0]
    assert roster["隔离行（占比）"] == f"{by_feed['roster']:,}（{100 * by_feed['roster'] / read:.1f}%）"


def test_new_warnings_by_township_and_rule_are_a_direct_count(overview, con):
    """Recounted in polars from household_scores: flagged and not monitored today, not at the previous date."""
    previous = con.execute("SELECT max(as_of_date) FROM household_scores WHERE as_of_date < ?", [END]).fetchall()[0][0]
    assert overview.previous == previous
    scores = con.sql("SELECT * FROM household_scores WHERE as_of_date IN (?, ?)", params=[END, previous]).pl()
    rules = pl.col("rule_codes").str.split(";").list.eval(pl.element().filter(~pl.element().is_in(["", "MODEL"])))
    warned = scores.filter(~pl.col("monitored").fill_null(False) & ((rules.list.len() > 0) | pl.col("model_warning")))
    today = warned.filter(pl.col("as_of_date") == END)
    new = today.join(warned.filter(pl.col("as_of_date") == previous), on="household_id", how="anti")
    direct = (
        new.with_columns(rule=pl.when(rules.list.len() > 0).then(rules).otherwise(pl.lit(["MODEL"])))
        .explode("rule")
        .group_by(pl.col("township").fill_null("（未知乡镇）"), "rule")
        .len()
    )
    expected = {(t, "" if r == "MODEL" else r): n for t, r, n in direct.iter_rows()}
    shown = {(r["乡镇"], r["规则代码"]): r["今日新增"] for r in overview.warnings.rows if r["今日新增"]}
    masked_town = f"测试镇{mask_id(PLANTED_ID)}"
    assert {(t.replace(PLANTED_ID, mask_id(PLANTED_ID)), r): n for (t, r), n in expected.items()} == shown
    assert any(t == masked_town for t, _ in shown)
    assert overview.numbers["new_warnings"] == new.height == summarize(con, [END])[0].new_warnings > 0
    names = {r["规则代码"]: r["规则"] for r in overview.warnings.rows}
    policy = load_policy()
    assert all(names[code] == policy.rules[code].name for code in names if code)
    assert all(r["变化"] == r["今日新增"] - r["上次新增"] for r in overview.warnings.rows)
    assert sum(n for _, n, _ in overview.warnings_by_township) == new.height


def test_overdue_cases_masked_with_working_days_as_the_sheet_counts_them(overview, overview_wh, con):
    wf = load_policy().workflow
    rows = overview.overdue.rows
    assert overview.overdue_total == len(DUE) == len(rows)
    households = dict(
        con.execute(
            "SELECT case_id, household_id FROM case_status_daily WHERE as_of_date = ? AND list_contains(?, case_id)",
            [END, overview_wh["cases"]],
        ).fetchall()
    )
    expected = sorted(
        (
            (working_days_between(due, END, wf), mask_id(households[case]))
            for case, due in zip(overview_wh["cases"], DUE)
        ),
        reverse=True,
    )
    assert [r["逾期工作日"] for r in rows] == [days for days, _ in expected]  # most overdue first
    assert sorted((r["逾期工作日"], r["户编号（脱敏）"]) for r in rows) == sorted(expected)
    assert rows[-1]["逾期工作日"] == 1 and 5 in [r["逾期工作日"] for r in rows]  # not calendar days
    assert all(re.fullmatch(r"\d{6}\*{8}\d{4}", r["户编号（脱敏）"]) for r in rows)
    # the 逾期提醒 sheet shows the same cases, days and limits
    D.prepare(con, END)
    prepare_workdays(con, END, wf)
    sheet = []
    for county in D.counties(con, END):
        _, data = overdue_sheet(con, END, county, load_policy().as_of(END))
        sheet += [
            (county, mask_id(r["household_id"]), r["days_overdue_wd"], r["limit_zh"], r["due_date"]) for r in data
        ]
    names = D.county_names()
    shown = [(r["县"], r["户编号（脱敏）"], r["逾期工作日"], r["超过的时限"], r["时限截止"]) for r in rows]
    assert sorted(shown) == sorted((names[c], h, n, limit.split("（")[0], due) for c, h, n, limit, due in sheet)
    assert all(r["超过的时限"] and "个工作日" in r["超过的时限"] for r in rows)
    assert f"测试镇{mask_id(PLANTED_ID)}" in [r["乡镇"] for r in rows]


def test_the_overdue_table_is_capped_and_says_how_many_there_are(overview_wh):
    with duckdb.connect(str(overview_wh["path"])) as con:
        capped = daily_overview(con, END, load_policy(), limit=2)
    assert len(capped.overdue.rows) == 2 and capped.overdue_total == capped.numbers["cases_overdue"] == len(DUE)
    assert capped.overdue.column("逾期工作日") == sorted(capped.overdue.column("逾期工作日"), reverse=True)


def test_quality_by_kind_in_chinese(overview, con):
    total = con.execute("SELECT count(*) FROM data_quality_issues WHERE delivery_date = ?", [END]).fetchall()[0][0]
    assert overview.numbers["quality_issues"] == sum(overview.quality.column("条数")) == total > 0
    assert set(overview.quality.column("问题类型")) <= set(QUALITY_KINDS_ZH.values())


def test_nothing_shown_holds_an_id_number_or_a_full_household_id(overview, con):
    text = (
        json.dumps(
            [
                [t.rows for t in (overview.feeds, overview.warnings, overview.overdue, overview.quality)],
                overview.late_feeds,
            ],
            ensure_ascii=False,
            default=str,
        )
        + summary_markdown(overview)
        + str(overview.warnings_by_township)
    )
    assert not full_id_numbers(text) and not ID_RE.search(text)
    assert mask_id(PLANTED_ID) in text
    households = {
        r[0] for r in con.execute("SELECT household_id FROM case_status_daily WHERE as_of_date = ?", [END]).fetchall()
    }
    assert not [h for h in households if h in text]
