"""数据质量问题: the day's problem rows of one county (or of none, for the 未归属 workbook), masked."""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.crosscheck.kinds import QUALITY_KINDS_ZH
from fangfanpin.deliverables.data import feed_title, id_headers, quality_rows
from fangfanpin.deliverables.masking import mask_id, mask_text
from fangfanpin.deliverables.xlsx import Col

QUALITY_COLS = [
    Col("来源数据", "feed"),
    Col("报送部门", "department"),
    Col("文件", "file"),
    Col("行号", "row", "int"),
    Col("字段/问题类型", "field"),
    Col("原值（脱敏）", "raw_value"),
    Col("问题", "problem", width=60),
    Col("户编号", "household_id", "code"),
    Col("证件号码（脱敏）", "id_masked"),
    Col("处理方式", "handling"),
    Col("应由何部门修正", "fix_by"),
]


def quality_data(
    con: duckdb.DuckDBPyConnection, day: date, county: str | None, known: list[str] | None = None
) -> list[dict]:
    data = quality_rows(con, day, county, known)
    for r in data:
        raw, in_id_column = r.get("raw_value"), r["field"] in id_headers(r["feed"])
        r["raw_value"] = (mask_id(raw) if in_id_column else mask_text(raw)) if raw else ""
        r["feed"] = feed_title(r["feed"])
        r["field"] = QUALITY_KINDS_ZH.get(r["field"], r["field"])
        r["id_masked"] = mask_id(r["id_masked"]) if r.get("id_masked") else ""
        r["fix_by"] = f"{r['fix_by']}：请核对并更正后在下次报送中重新提供" if r.get("fix_by") else "请报送部门核对"
    return data
