"""The daily overview: what an analyst asks first each morning, for one delivery date and all counties together
(the Dagster asset ``overview/daily_overview`` shows it; docs/operations.md).

    ov = daily_overview(con, day, policy)
    ov.feeds.rows[0]["时效"]; ov.numbers["new_warnings"]; ov.overdue.rows; ov.overdue_total

- **feeds**: per feed its newest usable delivery, days since, cadence and freshness (``ingest.freshness``), what
  arrived today, rows loaded and quarantined today and the quarantine rate; the late ones first;
- **warnings**: new warnings by county, township and rule, today and at the previous scored date, and the change. A
  warning is new as the command's summary counts it (``deliverables.data.WARNINGS``); a household warned by several
  rules counts under each, one warned by the model alone under 模型预警. ``warnings_by_township`` counts households;
- **overdue**: open cases past their due date, most overdue first, in working days as the 逾期提醒 sheet counts them
  (``sheets.deadlines``), at most ``limit`` rows (``overdue_total`` says how many there are);
- **quality**: the day's cross-department data-quality issues by county, kind (in Chinese) and who is to fix them.

Plain values, no Dagster. Every text that came from input (township and village names) is masked with
``core.privacy.mask_text``; a household shows only its masked 户编号, never a name or an ID number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.core.privacy import mask_id, mask_text
from fangfanpin.crosscheck.kinds import KIND_ZH, kind_params
from fangfanpin.deliverables.data import WARNINGS, county_names
from fangfanpin.deliverables.places import village_place
from fangfanpin.deliverables.sheets.deadlines import DAYS_OVERDUE, limit_sql
from fangfanpin.deliverables.workdays import prepare_workdays
from fangfanpin.ingest.freshness import FRESH, LATE, NEVER, OVERDUE, STATUS_ZH, describe, feed_freshness

OVERDUE_LIMIT = 200  # rows of the overdue table; the rest are in each county's 逾期提醒 sheet
MODEL = "MODEL"  # the rule of a household warned by the model alone
NO_TOWNSHIP, NO_COUNTY = "（未知乡镇）", "（未归属）"
# what arrived for a feed on the day (deliveries.status)
DELIVERY_ZH = {
    "applied": "已载入",
    "accepted": "已载入（操作员确认）",
    "held": "暂缓采用（快照骤减）",
    "partial": "部分县暂缓采用",
    "rejected": "整批拒收",
    "no_delivery": "今日未交付",
}
_STATUS_ORDER = {OVERDUE: 0, NEVER: 1, LATE: 2, FRESH: 3}  # the feeds table lists the late ones first


@dataclass(frozen=True)
class Column:
    name: str  # the Chinese header the UI shows
    type: str  # string, int, date
    description: str = ""


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)  # by column name

    def column(self, name: str) -> list:
        return [r[name] for r in self.rows]


@dataclass
class Overview:
    day: date
    previous: date | None  # the previous scored date: what today's new warnings are compared with
    feeds: Table
    warnings: Table
    warnings_by_township: list[tuple[str, int, int]]  # (township, households today, at the previous date)
    overdue: Table
    overdue_total: int
    quality: Table
    numbers: dict[str, int]  # plain counts, to plot across dates
    late_feeds: list[str]  # one line per feed not on time (ingest.freshness.describe)


# Columns most important first and headers short: the UI gives a table about 600 pixels before it scrolls sideways.
FEED_COLUMNS = [
    Column("数据集（报送部门）", "string"),
    Column("时效", "string", "按时；迟交：超过约定周期；严重迟交：超过两倍；从未交付"),
    Column("距今天数", "int", "交付日期减最近交付日期（自然日）"),
    Column("周期（天）", "int", "数据契约约定的交付周期"),
    Column("最近交付", "date", "最近一次被采用（载入或操作员确认）的交付日期"),
    Column("今日交付", "string", "本交付日期收到的情况"),
    Column("载入行", "int", "今日载入的行"),
    Column("隔离行（占比）", "string", "今日不符合数据契约、未入库的行（占今日读取的行），原因见数据质量问题表"),
]
COUNTY = Column("县", "string")  # in the warnings and overdue tables only when the warehouse holds several counties
WARNING_COLUMNS = [
    Column("乡镇", "string"),
    Column("规则", "string", "规则名称（政策文件）；模型预警：未触发规则、模型概率达到预警线"),
    Column("今日新增", "int", "今日预警、上一交付日期未预警的非监测户；一户触发多条规则时每条各计一次"),
    Column("上次新增", "int", "上一交付日期按同样口径的新增预警户"),
    Column("变化", "int", "今日新增减上次新增"),
    Column("规则代码", "string"),
]
OVERDUE_COLUMNS = [
    Column("逾期工作日", "int", "时限截止日期之后的工作日数，按政策文件的工作日历，与“逾期提醒”表相同"),
    Column("乡镇", "string"),
    Column("行政村", "string"),
    Column("户编号（脱敏）", "string", "前 6 位和后 4 位；在该县工作清单的“逾期提醒”表中查找"),
    Column("案件状态", "string"),
    Column("时限截止", "date"),
    Column("超过的时限", "string", "详见“逾期提醒”表（时限起算日期、进入状态时是否已超过）"),
]
QUALITY_COLUMNS = [
    Column("县", "string", "（未归属）：无法归属到县的记录"),
    Column("问题类型", "string"),
    Column("应由何部门修正", "string"),
    Column("条数", "int"),
]


def _county(code: str | None) -> str:
    if not code:
        return NO_COUNTY
    return county_names().get(code, mask_text(code))


def previous_date(con: duckdb.DuckDBPyConnection, day: date) -> date | None:
    """The previous scored date (any county): today's new warnings are compared with its."""
    return con.execute("SELECT max(as_of_date) FROM scored_dates WHERE as_of_date < ?", [day]).fetchall()[0][0]


def feeds_table(con: duckdb.DuckDBPyConnection, day: date, freshness: list[dict]) -> Table:
    """One row per feed (``freshness``: ``feed_freshness(con, day)``), the late ones first."""
    today = {
        r[0]: r[1:]
        for r in con.execute(
            """SELECT feed, status, rows_read, rows_loaded, quarantined,
                      len(list_filter(from_json(files, '[{"name": "VARCHAR", "rejected": "BOOLEAN"}]'),
                                      lambda f: f.rejected))
               FROM deliveries WHERE delivery_date = ?""",
            [day],
        ).fetchall()
    }
    rows = []
    for f in sorted(freshness, key=lambda f: _STATUS_ORDER[f["status"]]):  # one row per feed
        status, read, loaded, quarantined, refused = today.get(f["feed"], ("no_delivery", 0, 0, 0, 0))
        quarantined = int(quarantined or 0)
        arrived = DELIVERY_ZH.get(status, status)
        if refused:
            arrived += f"，{refused} 个文件被拒收"
        rows.append(
            {
                "数据集（报送部门）": f"{f['title']}（{f['department']}）",
                "时效": STATUS_ZH[f["status"]],
                "距今天数": f["age_days"],
                "周期（天）": f["cadence_days"],
                "最近交付": f["last_applied_delivery"],
                "今日交付": arrived,
                "载入行": int(loaded or 0),
                "隔离行（占比）": f"{quarantined:,}（{100 * quarantined / read:.1f}%）" if read else "0",
            }
        )
    return Table(FEED_COLUMNS, rows)


# new warnings of $days by county, township and rule (a household with no rule: MODEL)
_BY_RULE = f"""
    WITH w AS (SELECT day, county_code, township, household_id,
                      list_filter(string_split(rule_codes, ';'), lambda x: x <> '' AND x <> '{MODEL}') AS codes
               FROM {WARNINGS} WHERE new),
    r AS (SELECT day, county_code, township, unnest(CASE WHEN len(codes) = 0 THEN ['{MODEL}'] ELSE codes END) AS rule
          FROM w)
    SELECT county_code, coalesce(township, '{NO_TOWNSHIP}') AS township, rule,
           count(*) FILTER (WHERE day = $d) AS today, count(*) FILTER (WHERE day = $prev) AS previous
    FROM r GROUP BY ALL ORDER BY county_code NULLS LAST, township, rule"""
_BY_TOWNSHIP = f"""
    SELECT county_code, coalesce(township, '{NO_TOWNSHIP}') AS township, count(*) FILTER (WHERE day = $d) AS today,
           count(*) FILTER (WHERE day = $prev) AS previous
    FROM {WARNINGS} WHERE new GROUP BY ALL ORDER BY 1 NULLS LAST, 2"""


def _with_county(columns: list[Column], rows: list[dict], several: bool) -> Table:
    """The table, with the county as its first column when there are several counties."""
    if several:
        return Table([COUNTY, *columns], rows)
    return Table(columns, [{k: v for k, v in r.items() if k != COUNTY.name} for r in rows])


def warnings_tables(
    con: duckdb.DuckDBPyConnection, day: date, previous: date | None, policy: Policy, several: bool
) -> tuple[Table, list[tuple[str, int, int]]]:
    """(new warnings by township × rule, households newly warned by township: (township, today, previous date))."""
    params = {"days": [d for d in (day, previous) if d], "d": day, "prev": previous}
    names = {code: rule.name for code, rule in policy.rules.items()} | {MODEL: "模型预警"}
    rows = [
        {
            COUNTY.name: _county(county),
            "乡镇": mask_text(township),
            "规则": names.get(rule, mask_text(rule)),
            "今日新增": today,
            "上次新增": prev,
            "变化": today - prev,
            "规则代码": "" if rule == MODEL else mask_text(rule),
        }
        for county, township, rule, today, prev in con.execute(_BY_RULE, params).fetchall()  # townships × rules
    ]
    by_township = [
        (mask_text(f"{_county(county)} {township}" if several else township), today, prev)
        for county, township, today, prev in con.execute(_BY_TOWNSHIP, params).fetchall()
    ]
    return _with_county(WARNING_COLUMNS, rows, several), by_township


def overdue_table(
    con: duckdb.DuckDBPyConnection, day: date, policy: Policy, limit: int, several: bool
) -> tuple[Table, int]:
    """(the ``limit`` most overdue cases, how many cases are overdue)."""
    prepare_workdays(con, day, policy.workflow)
    limit_zh, params = limit_sql(policy)
    got = con.execute(
        f"""
        SELECT cs.county_code, cs.township, coalesce(h.village_name, cs.village_code), cs.household_id,
               cs.case_status, cs.due_date, {limit_zh}, {DAYS_OVERDUE} AS days_overdue, count(*) OVER () AS total
        FROM case_status_daily cs
        LEFT JOIN household_indicators h ON h.as_of_date = $d AND h.household_id = cs.household_id
        WHERE cs.as_of_date = $d AND cs.overdue
        ORDER BY days_overdue DESC, cs.due_date, cs.county_code, cs.township, cs.village_code, cs.case_id
        LIMIT $limit""",
        params | {"d": day, "limit": limit},
    ).fetchall()
    rows = [
        {
            COUNTY.name: _county(county),
            "逾期工作日": days,
            "乡镇": mask_text(township or NO_TOWNSHIP),
            "行政村": mask_text(village_place(village or "")),
            "户编号（脱敏）": mask_id(household),
            "案件状态": state,
            "时限截止": due,
            "超过的时限": limit_text.split("（")[0],  # the limit; where it counts from is in the sheet
        }
        for county, township, village, household, state, due, limit_text, days, _ in got  # at most ``limit``
    ]
    return _with_county(OVERDUE_COLUMNS, rows, several), got[0][-1] if got else 0


def quality_table(con: duckdb.DuckDBPyConnection, day: date) -> Table:
    got = con.execute(
        f"""SELECT i.county_code, coalesce(z.kind_zh, i.kind), coalesce(i.fix_by, i.department, ''), count(*)
            FROM data_quality_issues i LEFT JOIN {KIND_ZH} z USING (kind)
            WHERE i.delivery_date = $d GROUP BY ALL ORDER BY 1 NULLS LAST, 4 DESC, 2, 3""",
        {"d": day} | kind_params(),
    ).fetchall()
    rows = [
        {"县": _county(county), "问题类型": mask_text(kind), "应由何部门修正": mask_text(fix_by), "条数": n}
        for county, kind, fix_by, n in got  # counties × kinds
    ]
    return Table(QUALITY_COLUMNS, rows)


def daily_overview(con: duckdb.DuckDBPyConnection, day: date, policy: Policy, limit: int = OVERDUE_LIMIT) -> Overview:
    """The overview of ``day`` (its deliveries, scores and ledger must be in the warehouse)."""
    policy = policy.as_of(day)
    previous = previous_date(con, day)
    freshness = feed_freshness(con, day)
    feeds = feeds_table(con, day, freshness)
    read, quarantined = con.execute(
        "SELECT coalesce(sum(rows_read), 0), coalesce(sum(quarantined), 0) FROM deliveries WHERE delivery_date = ?",
        [day],
    ).fetchall()[0]
    several = (
        con.execute(
            "SELECT count(DISTINCT county_code) FROM household_scores WHERE as_of_date = ? AND county_code IS NOT NULL",
            [day],
        ).fetchall()[0][0]
        > 1
    )
    warnings, by_township = warnings_tables(con, day, previous, policy, several)
    overdue, overdue_total = overdue_table(con, day, policy, limit, several)
    quality = quality_table(con, day)
    new_today, new_before = sum(t for _, t, _ in by_township), sum(p for *_, p in by_township)
    statuses = [f["status"] for f in freshness]
    numbers = {
        "feeds_late": statuses.count(LATE),
        "feeds_overdue": statuses.count(OVERDUE),
        "feeds_never": statuses.count(NEVER),
        "rows_read": int(read),
        "rows_loaded": sum(feeds.column("载入行")),
        "rows_quarantined": int(quarantined),
        "new_warnings": new_today,
        "new_warnings_before": new_before,
        "new_warnings_change": new_today - new_before,
        "cases_overdue": overdue_total,
        "quality_issues": sum(quality.column("条数")),
    }
    late = [describe(f) for f in freshness if f["status"] != FRESH]
    return Overview(day, previous, feeds, warnings, by_township, overdue, overdue_total, quality, numbers, late)


def summary_markdown(ov: Overview) -> str:
    """A few lines in Chinese, short enough for the UI to show without a click."""
    n = ov.numbers
    since = f"上一交付日期 {ov.previous}" if ov.previous else "无上一交付日期"
    most = max(ov.overdue.column("逾期工作日"), default=0)
    lines = [
        f"**交付日期 {ov.day}**",
        (
            f"- 数据时效：迟交 {n['feeds_late']} 个、严重迟交 {n['feeds_overdue']} 个、从未交付 {n['feeds_never']} 个数据集"
            if ov.late_feeds
            else f"- 数据时效：{len(ov.feeds.rows)} 个数据集全部按时"
        )
        + "".join(f"\n  - {line}" for line in ov.late_feeds[:4])
        + (f"\n  - 另有 {len(ov.late_feeds) - 4} 个见下表" if len(ov.late_feeds) > 4 else ""),
        f"- 今日载入 {n['rows_loaded']:,} 行，隔离 {n['rows_quarantined']:,} 行"
        + (f"（占读取行的 {100 * n['rows_quarantined'] / n['rows_read']:.1f}%）" if n["rows_read"] else ""),
        f"- 新增预警 {n['new_warnings']:,} 户（{since}：{n['new_warnings_before']:,} 户，"
        f"变化 {n['new_warnings_change']:+,}）",
        f"- 逾期案件 {n['cases_overdue']:,} 件" + (f"，最久逾期 {most:,} 个工作日" if most else ""),
        f"- 跨部门数据质量问题 {n['quality_issues']:,} 条",
    ]
    return mask_text("\n".join(lines))
