"""The county workbook (docs/outputs.md): eleven sheets, written with xlsxwriter (deliverables/xlsx.py), reproducible bytes.

Every sheet is a table: Chinese header row (frozen, with an autofilter), widths from the content, dates as Excel dates,
amounts as numbers, model probabilities as percentages, risk level and rule severity coloured (高 red, 中 orange, 低
green). Feed text is always written with write_string (and strings_to_formulas=False), so '=…' stays text. The
sheets are built in deliverables/sheets/, the 说明 sheet in deliverables/notes.py. ID numbers are masked everywhere;
free text passes through mask_text (ID and phone numbers inside it are masked); the phone column of 排查任务 is the
only unmasked phone.
"""

from __future__ import annotations

from datetime import date

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.data_contracts import all_contracts
from fangfanpin.deliverables.notes import notes
from fangfanpin.deliverables.receipts import receipt_sheet
from fangfanpin.deliverables.sheets.alerts import new_alerts
from fangfanpin.deliverables.sheets.cases import anomalies, elimination, publication, to_confirm
from fangfanpin.deliverables.sheets.deadlines import overdue, visit_tasks
from fangfanpin.deliverables.sheets.overview import overview
from fangfanpin.deliverables.sheets.quality import QUALITY_COLS, quality_data
from fangfanpin.deliverables.workdays import prepare_workdays
from fangfanpin.deliverables.xlsx import Col, Writer

SHEETS = (
    "工作概览",
    "新增预警",
    "排查任务",
    "比对异常",
    "公示名单",
    "待确认",
    "风险消除候选",
    "逾期提醒",
    "回传处理结果",
    "数据质量问题",
    "说明",
)


Sheets = list[tuple[str, list[Col], list[dict]]]  # (sheet name, columns, rows), in the workbook's order


def county_sheets(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy, model: str | None) -> Sheets:
    """The county workbook's sheets, read from the warehouse (render them with ``render_workbook``). ``policy`` is the
    one in force on ``day``; the household table ``dlv_hh`` is prepared (deliverables/data.py)."""
    prepare_workdays(con, day, policy.workflow)
    built = {
        "新增预警": new_alerts(con, day, county),
        "排查任务": visit_tasks(con, day, county),
        "比对异常": anomalies(con, day, county),
        "公示名单": publication(con, day, county),
        "待确认": to_confirm(con, day, county),
        "风险消除候选": elimination(con, day, county),
        "逾期提醒": overdue(con, day, county, policy),
        "回传处理结果": receipt_sheet(con, day, county, {c.feed: c.title for c in all_contracts()}),
        "数据质量问题": (QUALITY_COLS, quality_data(con, day, county)),
        "说明": notes(policy, day, model),
    }
    counts = {k: len(v[1]) for k, v in built.items()}
    built["工作概览"] = overview(con, day, county, policy, counts, model)
    return [(name, *built[name]) for name in SHEETS]


def unplaced_sheets(con: duckdb.DuckDBPyConnection, day: date, known: list[str]) -> Sheets:
    """The 未归属 workbook's one sheet: the day's problems placed in none of the ``known`` counties."""
    return [("数据质量问题", QUALITY_COLS, quality_data(con, day, None, known))]


def render_workbook(sheets: Sheets, day: date) -> tuple[bytes, dict[str, int]]:
    """The workbook's bytes and each sheet's row count. Needs no warehouse: it may run in another process."""
    w = Writer(day)
    counts = {name: w.sheet(name, cols, data) for name, cols, data in sheets}
    return w.close(), counts
