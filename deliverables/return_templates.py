"""Return templates (回传模板): one XLSX per return feed and county, pre-filled with what is due.

    for due in due_templates(con, day, county):              # what is due, read from the warehouse
        payload = render_template(due, day, policy.risk_types)  # the XLSX, in any process

走访结果 lists today's open visit tasks, 民主评议及公示结果 the publication batches whose period has ended without a
result, 县级决定 the cases awaiting the county's decision. The clerk fills the blank columns in Excel or WPS (a
dropdown for every coded column, date checks for dates, required columns marked ``*`` and shaded, the header row
locked) and drops the file, name and layout unchanged, into the next delivery: ingest knows it by its Chinese name
(the contract's ``file_title``), ignores the orientation columns (``context_headers``) and leaves out the rows nobody
answered (``prefilled``). Instructions are on a second sheet, 填写说明, which ingest does not read as data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb

from fangfanpin.data_contracts import Column, Contract, load_contract
from fangfanpin.deliverables.data import OPEN_TASKS, rows
from fangfanpin.deliverables.xlsx_cells import CellWriter
from fangfanpin.deliverables.xlsx_strings import StringsAtOnceWorkbook
from fangfanpin.ingest.xlsx import INSTRUCTIONS_SHEET

FOLDER = "回传模板"
ANSWER_ROWS = 300  # blank rows below the pre-filled ones that keep the dropdowns, for visits nobody asked for
YES_NO = ["是", "否"]
PUBLICATION_KINDS = {
    "纳入": "拟纳入监测对象",
    "补充公示": "拟纳入监测对象（绿色通道补充公示）",
    "风险消除": "拟消除风险",
}
TO_DECIDE = {
    "待确认": "纳入监测（确认纳入 / 不予纳入 / 退回重新核实）",
    "消除待确认": "风险消除（确认风险消除 / 退回重新核实）",
}


@dataclass(frozen=True)
class Template:
    feed: str
    layout: tuple[str, ...]  # headers in sheet order: the contract's columns and its context headers
    context_keys: dict[str, str]  # context header → key of the query's row
    sql: str  # the rows due, for $d (delivery date) and $c (county), whichever it names (data.rows binds those)
    purpose: str  # what the file is for, on the instruction sheet


TEMPLATES = (
    Template(
        "visit_results",
        (
            "任务编号",
            "任务类型",
            "乡镇",
            "行政村",
            "户编号",
            "户主姓名",
            "核实内容",
            "截止日期",
            "排查日期",
            "排查人",
            "核实家庭人均纯收入(元)",
            "核实合规自付支出(元)",
            "义务教育有保障",
            "基本医疗有保障",
            "住房安全有保障",
            "饮水安全有保障",
            "主要风险类型",
            "排查结论",
            "情况说明",
        ),
        {
            "任务类型": "purpose",
            "乡镇": "township",
            "行政村": "village_name",
            "户主姓名": "head_name",
            "核实内容": "what_to_verify_zh",
            "截止日期": "due_date",
        },
        f"""SELECT t.task_id, t.purpose, t.township, hh.village_name, t.household_id, hh.head_name,
                  t.what_to_verify_zh, t.due_date
           FROM {OPEN_TASKS} t LEFT JOIN dlv_hh hh ON hh.household_id = t.household_id
           ORDER BY coalesce(t.township, ''), coalesce(t.village_code, ''), t.priority_rank""",
        "今天未完成的入户排查任务。每户走访后填写排查日期、排查人、“三保障”及饮水安全情况和排查结论；"
        "主动走访发现的新情况可在表格下方另起一行填写（任务编号留空）。",
    ),
    Template(
        "publication_results",
        (
            "公示批次号",
            "公示类型",
            "乡镇",
            "行政村",
            "户编号",
            "户主姓名",
            "公示开始日期",
            "公示结束日期",
            "民主评议结果",
            "是否有异议",
            "异议核实结论",
        ),
        {"公示类型": "publication_kind", "乡镇": "township", "行政村": "village_name", "户主姓名": "head_name"},
        """SELECT b.batch_id, m.purpose, b.township, hh.village_name, m.household_id, hh.head_name,
                  b.start_date, b.end_date
           FROM publication_batches b JOIN publication_members m USING (batch_id)
           LEFT JOIN publication_outcomes o
                  ON o.batch_id = m.batch_id AND o.household_id = m.household_id AND o.processed_date <= $d
           LEFT JOIN dlv_hh hh ON hh.household_id = m.household_id
           WHERE b.county_code = $c AND b.processed_date <= $d AND b.end_date <= $d AND o.batch_id IS NULL
           ORDER BY b.end_date, b.batch_id, m.household_id""",
        "公示期已满、尚未回传结果的公示名单。每户填写民主评议结果、公示期间是否有异议；有异议的填写核实结论。",
    ),
    Template(
        "county_decisions",
        (
            "案件编号",
            "乡镇",
            "行政村",
            "户编号",
            "户主姓名",
            "案件状态",
            "拟决定事项",
            "决定类型",
            "监测对象类别",
            "风险类型",
            "决定日期",
            "决定单位",
            "说明",
        ),
        {
            "案件编号": "case_id",
            "乡镇": "township",
            "行政村": "village_name",
            "户主姓名": "head_name",
            "案件状态": "case_status",
            "拟决定事项": "to_decide",
        },
        """SELECT s.case_id, s.township, hh.village_name, s.household_id, hh.head_name, s.case_status
           FROM case_status_daily s LEFT JOIN dlv_hh hh ON hh.household_id = s.household_id
           WHERE s.as_of_date = $d AND s.county_code = $c AND s.case_status IN ('待确认', '消除待确认')
           ORDER BY s.state_since, s.township, hh.village_name, s.household_id""",
        "等待县级决定的案件（纳入监测或风险消除）。每户填写决定类型、决定日期和决定单位；确认纳入的填写监测对象类别。",
    ),
)


def file_name(contract: Contract, county: str, day: date) -> str:
    """``走访结果_150625_20261120.xlsx``: the return feed's Chinese name, which ingest reads as the feed, and the
    county, which places the file's issues."""
    return f"{contract.file_title}_{county}_{day:%Y%m%d}.xlsx"


@dataclass(frozen=True)
class DueTemplate:
    """A county's template and its pre-filled rows: all that rendering it needs besides the date and the policy's
    risk types."""

    template: Template
    file_name: str
    rows: list[dict]


def due_templates(con: duckdb.DuckDBPyConnection, day: date, county: str) -> list[DueTemplate]:
    """Each template of ``county`` with the rows due on ``day``; needs ``data.prepare`` first."""
    out = []
    for template in TEMPLATES:
        due = rows(con, template.sql, {"d": day, "c": county})
        for row in due:
            row["publication_kind"] = PUBLICATION_KINDS.get(row.get("purpose"), row.get("purpose"))
            row["to_decide"] = TO_DECIDE.get(row.get("case_status"), "")
        out.append(DueTemplate(template, file_name(load_contract(template.feed), county, day), due))
    return out


def render_template(due: DueTemplate, day: date, risk_types: tuple[str, ...]) -> bytes:
    """The template's XLSX bytes; ``risk_types``, the policy's, are the list a risk type is picked from. Needs no
    warehouse: it may run in another process."""
    return _workbook(due.template, load_contract(due.template.feed), due.rows, day, risk_types)


def _workbook(template: Template, contract: Contract, due: list[dict], day: date, risk_types: tuple[str, ...]) -> bytes:
    buf = io.BytesIO()
    wb = StringsAtOnceWorkbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"title": f"{contract.title}回传模板", "author": "fangfanpin", "created": _midnight(day)})
    fmt = _formats(wb)
    ws = wb.add_worksheet(contract.file_title, worksheet_class=CellWriter)
    columns = {c.header: c for c in contract.columns}
    last_row = len(due) + ANSWER_ROWS
    for j, header in enumerate(template.layout):
        column = columns.get(header)
        kind = "context" if column is None else "prefilled" if column.name in contract.prefilled else "answer"
        is_date = column is not None and column.type == "date" or header == "截止日期"
        ws.set_column(j, j, _width(header), fmt[("date" if is_date else "text", kind)])
        required = column is not None and column.required and kind == "answer"
        ws.write_string(0, j, ("*" if required else "") + header, fmt[("header", "required" if required else kind)])
        key = template.context_keys.get(header) or (column.name if column else header)
        for i, row in enumerate(due, start=1):
            value = row.get(key)
            if isinstance(value, date):
                ws.write_datetime(i, j, _midnight(value), fmt[("date", kind)])
            elif value is not None:
                ws.text(i, j, str(value), fmt[("text", kind)])
        if kind == "answer":
            ws.data_validation(1, j, last_row, j, _validation(column, day, risk_types))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(due), 1), len(template.layout) - 1)
    ws.protect(
        "",
        {
            "insert_rows": True,
            "delete_rows": True,
            "sort": True,
            "autofilter": True,
            "format_columns": True,
            "format_rows": True,
        },
    )
    _instructions(wb, template, contract, risk_types, fmt)
    wb.close()
    return buf.getvalue()


def _validation(column: Column, day: date, risk_types: tuple[str, ...]) -> dict:
    if column.type == "code":
        return {
            "validate": "list",
            "source": list(column.values),
            "error_title": column.header,
            "error_message": "请从下拉列表中选择：" + "、".join(column.values),
        }
    if column.type == "yesno":
        return {"validate": "list", "source": YES_NO, "error_message": "请选择“是”或“否”"}
    if column.type == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": _midnight(day - timedelta(days=366)),
            "maximum": _midnight(day + timedelta(days=366)),
            "error_message": "请填写日期，例如 2026-11-20",
        }
    if column.type == "amount":
        return {
            "validate": "decimal",
            "criteria": ">=",
            "value": -1e12 if column.signed else 0,
            "error_message": "请填写金额（元），只填数字",
        }
    if column.header in ("主要风险类型", "风险类型"):  # several may be named: a list to pick from, others allowed
        return {
            "validate": "list",
            "source": list(risk_types),
            "error_type": "information",
            "error_message": "可从列表选择；多个风险类型用“、”分隔",
        }
    return {"validate": "any"}


def _instructions(wb, template: Template, contract: Contract, risk_types: tuple[str, ...], fmt) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 90, fmt[("wrap", "context")])
    lines = [
        ("用途", template.purpose),
        (
            "怎样回传",
            f"填好后保存，不要改文件名、工作表和表头，把文件放进下一天交付文件夹（与各部门数据同一文件夹）。"
            f"系统按文件名「{contract.file_title}_县代码_日期.xlsx」识别，处理结果见次日工作清单的「回传处理结果」。",
        ),
        (
            "标记",
            "表头带 * 的列必填（橙色）；灰色列是系统预填的任务信息，请勿修改；白色列是选填。只填了预填内容、"
            "没有填写结果的行视为未回传，不会载入，可以保留或删除。",
        ),
        ("日期", "日期列请按 2026-11-20 的格式填写，或从单元格日期格式中选择。"),
    ]
    lines += [(f"{c.header}可选值", "、".join(c.values)) for c in contract.columns if c.type == "code"]
    lines += [(c.header, "是 / 否") for c in contract.columns if c.type == "yesno"]
    if any(h in ("主要风险类型", "风险类型") for h in template.layout):
        lines.append(("风险类型可选值", "、".join(risk_types)))
    ws.write_string(0, 0, f"{contract.title}回传模板：填写说明", fmt[("header", "context")])
    for i, (label, text) in enumerate(lines, start=2):
        ws.write_string(i, 0, label, fmt[("header", "context")])
        ws.write_string(i, 1, text, fmt[("wrap", "context")])


def _formats(wb) -> dict:
    fills = {"context": "#EDEDED", "prefilled": "#EDEDED", "answer": None, "required": "#FCE4D6"}
    out = {}
    for kind, fill in fills.items():
        base = {"valign": "top", "locked": False} | ({"bg_color": fill} if fill and kind != "required" else {})
        out[("text", kind)] = wb.add_format(base | {"num_format": "@"})
        out[("date", kind)] = wb.add_format(base | {"num_format": "yyyy-mm-dd"})
        out[("wrap", kind)] = wb.add_format(base | {"text_wrap": True})
        out[("header", kind)] = wb.add_format(
            {"bold": True, "border": 1, "locked": True, "text_wrap": True, "valign": "vcenter"}
            | ({"bg_color": fill} if fill else {"bg_color": "#FFFFFF"})
        )
    return out


def _width(header: str) -> float:
    return {"核实内容": 40, "情况说明": 30, "说明": 30, "拟决定事项": 30}.get(header, max(10, 2 * len(header) + 2))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0))
