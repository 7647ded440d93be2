"""What the command prints after its runs: a short summary per delivery date, read from the warehouse
(docs/operations.md). Plain DuckDB, no Dagster: counts only, so nothing in it names a person.

Per date: the feeds delivered (of all feeds), rows loaded and quarantined, files refused (a refused file inside a
feed, a feed refused whole, a folder entry not read), county snapshots held, households newly flagged (flagged on
this date and not at the previous scored date, as 新增预警 means), cases opened, cases whose state changed (beyond
their opening), and cases overdue after the date.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import date

import duckdb

from fangfanpin.data_contracts import FEED_NAMES, all_contracts
from fangfanpin.deliverables.data import WARNINGS
from fangfanpin.pipeline.progress import clock_text

SUMMARY_SQL = f"""
WITH days AS (SELECT unnest($days::DATE[]) AS day),
feeds AS (
    SELECT delivery_date AS day, count(*) FILTER (WHERE files <> '[]') AS feeds,
           sum(rows_loaded) AS rows_loaded, sum(quarantined) AS rows_quarantined
    FROM deliveries WHERE delivery_date IN (SELECT day FROM days) GROUP BY ALL),
refused AS (
    SELECT d.delivery_date AS day, count(*) AS files
    FROM deliveries d, unnest(from_json(d.files, '[{{"name": "VARCHAR", "rejected": "BOOLEAN"}}]')) AS u(f)
    WHERE d.delivery_date IN (SELECT day FROM days) AND f.rejected GROUP BY ALL),
not_read AS (
    SELECT delivery_date AS day, count(*) AS entries FROM landing_files
    WHERE delivery_date IN (SELECT day FROM days) AND problem IS NOT NULL GROUP BY ALL),
held AS (
    SELECT delivery_date AS day, count(*) AS snapshots FROM snapshot_versions
    WHERE delivery_date IN (SELECT day FROM days) AND status = 'held' GROUP BY ALL),
warnings AS (
    SELECT day, count(*) FILTER (WHERE new) AS new, count(*) FILTER (WHERE NOT new) AS continuing
    FROM {WARNINGS} w GROUP BY ALL),
opened AS (
    SELECT processed_date AS day, count(*) AS cases FROM case_openings
    WHERE processed_date IN (SELECT day FROM days) GROUP BY ALL),
moved AS (
    SELECT processed_date AS day, count(DISTINCT case_id) AS cases FROM case_events
    WHERE processed_date IN (SELECT day FROM days) AND old_state <> '∅' AND old_state <> new_state GROUP BY ALL),
overdue AS (
    SELECT as_of_date AS day, count(*) AS cases FROM case_status_daily
    WHERE as_of_date IN (SELECT day FROM days) AND overdue GROUP BY ALL)
SELECT days.day, coalesce(feeds.feeds, 0), coalesce(feeds.rows_loaded, 0), coalesce(feeds.rows_quarantined, 0),
       coalesce(refused.files, 0) + coalesce(not_read.entries, 0), coalesce(held.snapshots, 0),
       coalesce(warnings.new, 0), coalesce(warnings.continuing, 0), coalesce(opened.cases, 0),
       coalesce(moved.cases, 0), coalesce(overdue.cases, 0)
FROM days
LEFT JOIN feeds USING (day) LEFT JOIN refused USING (day) LEFT JOIN not_read USING (day) LEFT JOIN held USING (day)
LEFT JOIN warnings USING (day) LEFT JOIN opened USING (day) LEFT JOIN moved USING (day) LEFT JOIN overdue USING (day)
ORDER BY days.day
"""


@dataclass(frozen=True)
class DaySummary:
    day: date
    feeds: int  # feeds with at least one file delivered
    rows_loaded: int
    rows_quarantined: int
    files_refused: int  # refused files (also of a feed refused whole) and folder entries not read
    snapshots_held: int  # county snapshots held for an operator (fangfanpin accept)
    new_warnings: int  # households flagged on this date that were not at the previous scored date
    continuing_warnings: int  # households flagged on both
    cases_opened: int
    cases_moved: int  # cases whose state changed, beyond their opening
    cases_overdue: int  # open cases past a time limit after this date


def summarize(con: duckdb.DuckDBPyConnection, days: list[date]) -> list[DaySummary]:
    """One summary per date, in date order."""
    if not days:
        return []
    rows = con.execute(SUMMARY_SQL, {"days": sorted(set(days))}).fetchall()
    return [DaySummary(*(r[0], *(int(v) for v in r[1:]))) for r in rows]


# (header, what it counts in English); the header is the column's Chinese name, the legend line explains it
COLUMNS = {
    "feeds": ("数据集", "feeds delivered, of {n}"),
    "rows_loaded": ("载入行", "rows loaded"),
    "rows_quarantined": ("隔离行", "rows quarantined"),
    "files_refused": ("拒收文件", "files refused or not read"),
    "snapshots_held": ("暂缓快照", "county snapshots held"),
    "new_warnings": ("新增预警", "households newly flagged"),
    "continuing_warnings": ("持续预警", "flagged on the previous date too"),
    "cases_opened": ("新立案件", "cases opened"),
    "cases_moved": ("状态变化", "cases that changed state"),
    "cases_overdue": ("逾期案件", "cases overdue"),
}


def _width(text: str) -> int:
    """Terminal cells: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, left: bool = False) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text


def format_summary(summaries: list[DaySummary], seconds: float) -> list[str]:
    """The lines printed after the runs: a title, a table with one row per date, and a legend."""
    if not summaries:
        return []
    names = [f.name for f in fields(DaySummary)][1:]
    cells = [
        [str(s.day)]
        + [f"{s.feeds}/{len(FEED_NAMES)}" if name == "feeds" else f"{getattr(s, name):,}" for name in names]
        for s in summaries
    ]
    header = ["交付日期"] + [COLUMNS[name][0] for name in names]
    widths = [max(_width(row[i]) for row in [header, *cells]) for i in range(len(header))]
    table = ["  ".join(_pad(cell, widths[i], left=i == 0) for i, cell in enumerate(row)) for row in [header, *cells]]
    took = clock_text(seconds)
    return [
        f"运行小结：{len(summaries)} 个交付日期，用时 {took}，数据取自数据仓库 / summary of {len(summaries)} delivery "
        f"date(s), {took}, read from the warehouse",
        *table,
        *_legend([f"{zh}: {en.format(n=len(FEED_NAMES))}" for zh, en in (COLUMNS[name] for name in names)]),
    ]


def _legend(parts: list[str], width: int = 100) -> list[str]:
    """The columns explained, in lines of about ``width`` terminal cells."""
    lines = [""]
    for part in parts:
        if lines[-1] and _width(lines[-1]) + _width(part) + 2 > width:
            lines.append("")
        lines[-1] += ("；" if lines[-1] else "") + part
    return lines


def resent_unchanged(con: duckdb.DuckDBPyConnection, days: list[date]) -> list[str]:
    """One line per date with snapshots re-sent unchanged (not read again, their rows copied: ingest.unchanged)."""
    titles = {c.feed: c.title for c in all_contracts()}
    rows = con.execute(
        "SELECT delivery_date, feed, same_as FROM deliveries WHERE list_contains(?::DATE[], delivery_date) "
        "AND same_as IS NOT NULL ORDER BY 1, 2",
        [sorted(set(days))],
    ).fetchall()
    by_day: dict[date, list[str]] = {}
    for day, feed, same_as in rows:
        by_day.setdefault(day, []).append(f"{titles.get(feed, feed)}（同 {same_as}）")
    return [
        f"{day}：与上次交付相同，未重新解析：{'、'.join(feeds)} / {len(feeds)} snapshot(s) re-sent unchanged, "
        "not read again"
        for day, feeds in by_day.items()
    ]
