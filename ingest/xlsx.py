"""Read the first visible sheet of an XLSX workbook as text, within the policy's file limits.

openpyxl, not a faster reader, because only it tells a number cell from a text cell: an ID number that Excel stored
as a number with more than 15 digits has lost its last digits and must be quarantined, not trusted, while one of 15
digits (an old-format ID) is exact. XLSX feeds are the small ones.

The sheet's declared range (``<dimension>``) is not trusted: programs leave it out of date, and openpyxl's read-only
mode would stop at it (rows lost) or pad every row out to it (a 7 KB file declaring column XFD took gigabytes).
Cells are counted as they are read, against ``FileLimits``; the unzipped size is checked before anything is parsed.
"""

from __future__ import annotations

import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
from openpyxl import load_workbook

from fangfanpin.config.policy import FileLimits
from fangfanpin.ingest.rawfile import RawFile, UnreadableFile
from fangfanpin.schema import ROW

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of encrypted workbooks and of Excel 97-2003
EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number: a longer ID typed as a number is already rounded
CHECK_EVERY = 1024  # rows between two looks at the clock

P_FORMULA = "是 Excel 公式但文件中没有计算结果（请在 Excel 中重新计算并保存后再发送），该行未载入"

INSTRUCTIONS_SHEET = "填写说明"  # the sheet of instructions in a return template (deliverables), not data


def read_xlsx(path: Path, limits: FileLimits, deadline: float) -> RawFile:
    name = path.name
    _refuse_not_a_workbook(path)
    _check_unzipped_size(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
        raise UnreadableFile(f"文件 {name} 不是有效的 XLSX 工作簿（{type(exc).__name__}），整个文件未载入") from None
    problems = []
    try:
        sheet, problem = _first_visible_sheet(name, workbook)
        if problem:
            problems.append(problem)
        sheet.reset_dimensions()
        rows = _rows_within_limits(name, sheet, limits, deadline)
    finally:
        workbook.close()
    header_index = _header_row(rows)
    if header_index is None:
        raise UnreadableFile(f"工作簿 {name} 的工作表「{sheet.title}」是空的")
    formulas = _formulas_without_result(path, sheet.title, rows, header_index) if _has_formulas(path) else []
    width = max(len(r) for r in rows[header_index:])  # a data cell right of the header's last cell counts too
    headers = [_text(v) or "" for v in rows[header_index]] + [""] * (width - len(rows[header_index]))
    while headers and headers[-1] == "" and not _column_has_data(rows[header_index + 1 :], len(headers) - 1):
        headers.pop()  # a column without header and without data; one with data is kept (and reported)
    id_like = [_looks_like_id_header(h) for h in headers]
    records = {f"c{i}": [] for i in range(len(headers))}
    numbers = []
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(v not in (None, "") for v in row):
            continue
        numbers.append(offset)
        for i in range(len(headers)):
            records[f"c{i}"].append(_cell_text(row[i] if i < len(row) else None, id_like[i]))
    frame = pl.DataFrame(records, schema={k: pl.Utf8 for k in records}).with_columns(
        pl.Series(ROW, numbers, dtype=pl.Int64)
    )
    if header_index > 0:
        problems.append(f"工作簿 {name} 的表头在第 {header_index + 1} 行（其上的标题行已跳过）")
    wanted = set(numbers)
    formula_cells = [
        {
            "file": name,
            "row": r,
            "column": _header_name(headers, c),
            "raw_value": f,
            "problem": f"「{_header_name(headers, c)}」{P_FORMULA}",
        }
        for r, c, f in formulas
        if r in wanted
    ]
    return RawFile(
        path=path, encoding="xlsx", headers=headers, frame=frame, problems=problems, formula_cells=formula_cells
    )


def _refuse_not_a_workbook(path: Path) -> None:
    """An encrypted workbook, an Excel 97-2003 file renamed, or anything that is not a ZIP, by its first bytes; a
    workbook that unzips beyond the limit, by the sizes its ZIP directory declares (reading more is refused too)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UnreadableFile(
                f"文件 {path.name} 已加密（设置了打开密码），无法读取；请取消密码后重新保存为 XLSX 再发送"
            )
        raise UnreadableFile(
            f"文件 {path.name} 是旧版 Excel 97-2003 格式（.xls），扩展名却是 .xlsx；请另存为 XLSX 再发送"
        )
    if not zipfile.is_zipfile(path):
        raise UnreadableFile(f"文件 {path.name} 不是有效的 XLSX 工作簿（不是 ZIP 格式），整个文件未载入")


def _check_unzipped_size(path: Path, limits: FileLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"文件 {path.name} 不是有效的 XLSX 工作簿（{type(exc).__name__}），整个文件未载入"
        ) from None
    if unzipped > limits.max_unzipped_mb * 2**20:
        raise UnreadableFile(
            f"文件 {path.name} 解压后有 {unzipped / 2**20:,.0f} MB，超过上限 "
            f"{limits.max_unzipped_mb:,.0f} MB，整个文件未载入"
        )
    ratio = unzipped / max(path.stat().st_size, 1)
    if ratio > limits.max_zip_ratio:
        raise UnreadableFile(
            f"文件 {path.name} 解压后是原文件的 {ratio:,.0f} 倍，超过上限 {limits.max_zip_ratio:,.0f} 倍"
            "（疑似压缩炸弹），整个文件未载入"
        )


def _rows_within_limits(name: str, sheet, limits: FileLimits, deadline: float) -> list[tuple]:
    rows, cells = [], 0
    for row in sheet.iter_rows(values_only=True):
        cells += len(row)
        if len(row) > limits.max_columns:
            raise UnreadableFile(
                f"工作簿 {name} 第 {len(rows) + 1} 行有 {len(row):,} 列，超过上限 "
                f"{limits.max_columns:,} 列，整个文件未载入"
            )
        if cells > limits.max_cells:
            raise UnreadableFile(f"工作簿 {name} 的单元格超过上限 {limits.max_cells:,} 个，整个文件未载入")
        if len(rows) % CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise UnreadableFile(f"工作簿 {name} 读取超过时间上限，整个文件未载入")
        rows.append(row)
    return rows


def _text(value) -> str | None:
    return None if value is None else _cell_text(value, False)


def _cell_text(value, id_column: bool) -> str | None:
    """An XLSX cell as the department saw it. In an ID column, a number of up to 15 digits is exact (an old-format
    ID); a longer one is what Excel shows, 1.50625E+17: its last digits are lost."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if (value.hour or value.minute or value.second)
            else value.strftime("%Y-%m-%d")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        integral = isinstance(value, int) or value.is_integer()
        if id_column and not (integral and abs(value) < 10**EXACT_DIGITS):
            return f"{value:.5E}"
        return str(int(value)) if integral else str(value)
    return str(value).removeprefix("\ufeff")


def _header_name(headers: list[str], index: int) -> str:
    return headers[index] if index < len(headers) and headers[index] else f"第{index + 1}列"


def _column_has_data(rows: list[tuple], index: int) -> bool:
    return any(index < len(r) and r[index] not in (None, "") for r in rows)


def _first_visible_sheet(name: str, workbook) -> tuple:
    """The first sheet a person sees when opening the workbook; hidden sheets before it are skipped, and any other
    sheet is reported as not read, except the instructions a return template carries."""
    visible = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
    sheet = visible[0] if visible else workbook.worksheets[0]
    others = [s.title for s in workbook.worksheets if s is not sheet and s.title != INSTRUCTIONS_SHEET]
    if not others:
        return sheet, None
    hidden = [s.title for s in workbook.worksheets if getattr(s, "sheet_state", "visible") != "visible"]
    hidden_text = f"（其中隐藏的：{'、'.join(hidden)}）" if hidden else ""
    return sheet, (
        f"工作簿 {name} 有 {len(workbook.worksheets)} 个工作表，只读取第一个可见的「{sheet.title}」，"
        f"未读取：{'、'.join(others)}{hidden_text}"
    )


def _header_row(rows: list[tuple]) -> int | None:
    """The header: the first non-empty row, skipping title rows above it (a single filled cell, usually merged
    across the table, such as「杭锦旗2026年农户信息表」) when a wider row follows."""
    filled = [(i, sum(v not in (None, "") for v in r)) for i, r in enumerate(rows)]
    filled = [(i, n) for i, n in filled if n]
    if not filled:
        return None
    for i, n in filled[:10]:
        if n >= 2:
            return i
    return filled[0][0]


def _has_formulas(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        sheets = (archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        return any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def _formulas_without_result(path: Path, title: str, values: list[tuple], header_index: int) -> list[tuple]:
    """(sheet row number, column index, formula) of every formula cell below the header whose saved result is
    empty: a workbook written by a program, never opened in Excel, has formulas but no results."""
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = workbook[title]
        sheet.reset_dimensions()
        rows = list(sheet.iter_rows(max_row=len(values), values_only=True))
    finally:
        workbook.close()
    found = []
    for i in range(header_index + 1, min(len(rows), len(values))):
        for c, formula in enumerate(rows[i]):
            if (
                isinstance(formula, str)
                and formula.startswith("=")
                and (c >= len(values[i]) or values[i][c] in (None, ""))
            ):
                found.append((i + 1, c, formula))
    return found


def _looks_like_id_header(header: str) -> bool:
    return "证件号码" in header or "身份证" in header
