"""The 回传处理结果 sheet: a receipt for every return file a county sent back on the delivery date.

One summary line per file (rows received, processed, not processed, not loaded), then one line per row that did
not take effect, with the reason in Chinese: a value not allowed (the ingest problem lists the allowed values), a
transition the case's state does not allow, an unknown household, a duplicate. A file refused whole is one line
with the reason. Files are the county's by the county of their rows, or by the county code in their name.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.deliverables.data import rows
from fangfanpin.deliverables.xlsx import Col
from fangfanpin.schema import q

RETURN_FEEDS = ("applications", "visit_results", "publication_results", "county_decisions")
FILE_SUMMARY = '[{"name": "VARCHAR", "encoding": "VARCHAR", "rows": "BIGINT", "rejected": "BOOLEAN"}]'

COLUMNS = [
    Col("文件", "file", width=36),
    Col("数据集", "title"),
    Col("行号", "row", "int"),
    Col("户编号", "household_id", "code"),
    Col("处理结果", "outcome"),
    Col("说明", "detail", width=80),
]

_LOADED = " UNION ALL ".join(
    f"SELECT '{feed}' AS feed, _file AS file, count(*) AS loaded FROM {q(feed)} "
    "WHERE _delivery_date = $d AND county_code = $c GROUP BY _file"
    for feed in RETURN_FEEDS
)

SUMMARY_SQL = f"""
WITH received AS (
    SELECT d.feed, f.name AS file, f.rows AS rows_read, f.rejected
    FROM deliveries d, unnest(from_json(d.files, '{FILE_SUMMARY}')) AS t(f)
    WHERE d.delivery_date = $d AND list_contains($feeds, d.feed)),
loaded AS ({_LOADED}),
quarantined AS (
    -- a file's example problem: its first row's (the same on a re-run)
    SELECT feed, file, count(DISTINCT coalesce("row", -1)) AS quarantined, first(problem ORDER BY "row" NULLS FIRST, problem) AS problem
    FROM quarantine WHERE delivery_date = $d AND county_code = $c AND list_contains($feeds, feed) GROUP BY ALL),
not_applied AS (
    SELECT feed, file, count(*) AS not_applied FROM workflow_issues
    WHERE processed_date = $d AND county_code = $c AND file IS NOT NULL GROUP BY ALL),
named AS (
    SELECT feed, name AS file FROM landing_files
    WHERE delivery_date = $d AND county_code = $c AND list_contains($feeds, feed))
SELECT r.feed, r.file, r.rows_read, r.rejected, coalesce(l.loaded, 0) AS loaded,
       coalesce(qu.quarantined, 0) AS quarantined, qu.problem, coalesce(n.not_applied, 0) AS not_applied
FROM received r
LEFT JOIN loaded l USING (feed, file) LEFT JOIN quarantined qu USING (feed, file)
LEFT JOIN not_applied n USING (feed, file)
WHERE l.file IS NOT NULL OR qu.file IS NOT NULL OR r.file IN (SELECT file FROM named WHERE named.feed = r.feed)
ORDER BY r.feed, r.file"""

DETAIL_SQL = """
SELECT feed, file, "row", NULL AS household_id, '未载入' AS outcome,
       CASE WHEN "column" IS NULL THEN problem ELSE format('「{}」：{}', "column", problem) END AS detail
FROM quarantine
WHERE delivery_date = $d AND county_code = $c AND list_contains($feeds, feed) AND "row" IS NOT NULL
  AND NOT list_contains($rejected, file)
UNION ALL
SELECT feed, file, "row", household_id, '未处理' AS outcome, format('{}：{}', kind, description_zh) AS detail
FROM workflow_issues
WHERE processed_date = $d AND county_code = $c AND file IS NOT NULL AND list_contains($feeds, feed)
UNION ALL
SELECT feed, file, "row", NULL AS household_id, '提示' AS outcome, problem AS detail
FROM ingest_reports
WHERE delivery_date = $d AND county_code = $c AND list_contains($feeds, feed)
ORDER BY file, "row" NULLS FIRST, outcome"""


def receipt_sheet(con: duckdb.DuckDBPyConnection, day: date, county: str, titles: dict[str, str]) -> tuple:
    """(columns, rows) of the sheet; ``titles``: feed → its Chinese title."""
    params = {"d": day, "c": county, "feeds": list(RETURN_FEEDS)}
    files = rows(con, SUMMARY_SQL, params)
    rejected = [f["file"] for f in files if f["rejected"]]
    details = rows(con, DETAIL_SQL, params | {"rejected": rejected})
    by_file: dict[str, list[dict]] = {}
    for d in details:
        by_file.setdefault(d["file"], []).append(d | {"title": titles.get(d["feed"], d["feed"])})
    out = []
    for f in files:
        out.append(
            {
                "file": f["file"],
                "title": titles.get(f["feed"], f["feed"]),
                "outcome": "整个文件未载入" if f["rejected"] else f"已处理 {f['loaded'] - f['not_applied']:,} 行",
                "detail": _summary(f),
            }
        )
        out += by_file.get(f["file"], [])
    return COLUMNS, out


def _summary(f: dict) -> str:
    if f["rejected"]:
        return f["problem"] or "整个文件未载入"
    others = f["rows_read"] - f["loaded"] - f["quarantined"]
    parts = [
        f"收到 {f['rows_read']:,} 行",
        f"已处理 {f['loaded'] - f['not_applied']:,} 行",
        f"未处理 {f['not_applied']:,} 行" if f["not_applied"] else "",
        f"未载入 {f['quarantined']:,} 行" if f["quarantined"] else "",
        f"重复或被后发送的行替代 {others:,} 行" if others > 0 else "",
    ]
    return "，".join(p for p in parts if p) + ("（原因见下）" if f["not_applied"] or f["quarantined"] else "")
