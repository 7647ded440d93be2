"""Find a feed's files in a delivery folder and read them as text, whatever encoding or format they arrived in.

Every cell comes back as a string (or null) so that nothing is guessed before the contract is applied; ID numbers
stay exactly as delivered. Row numbers are what a person sees in the file: the header is row 1 in a CSV, and in an
XLSX the sheet's own row numbers are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

ROW = "_row"
UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is Chinese and names the file."""


@dataclass
class RawFile:
    path: Path
    encoding: str  # utf-8, utf-8-sig, gb18030 or xlsx
    headers: list[str]
    frame: pl.DataFrame  # one Utf8 column per header position ("c0", "c1", ...) plus _row
    problems: list[str] = field(default_factory=list)
    checks: frozenset[str] = frozenset()  # damage checks the cells need (ingest.damage): nul, undecodable, long
    formula_cells: list[dict] = field(default_factory=list)  # XLSX formulas without a saved result
    dropped: list[dict] = field(default_factory=list)  # rows read but not in ``frame`` (a truncated last row)


def delivery_dir(landing_dir: Path, delivery_date: date) -> Path:
    return Path(landing_dir) / delivery_date.isoformat()


def find_feed_files(landing_dir: Path, delivery_date: date, feed: str) -> list[Path]:
    """The files that together are ``feed``'s delivery for the date: ``<feed>.csv`` or ``<feed>_<anything>.xlsx``."""
    folder = delivery_dir(landing_dir, delivery_date)
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(feed)}(_.*)?\.(csv|xlsx)$", re.IGNORECASE)
    return sorted(p for p in folder.iterdir() if p.is_file() and pattern.match(p.name))


def delivery_dates(landing_dir: Path) -> list[date]:
    """Every delivery folder's date, oldest first: only folders named by a real date as YYYY-MM-DD, the name
    ``delivery_dir`` gives (``20260917`` or ``2026-9-18`` would be read as an empty delivery; the commands report such
    folders, pipeline/delivery_runs.py)."""
    root = Path(landing_dir)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        if not p.is_dir() or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", p.name):
            continue
        try:
            found.append(date.fromisoformat(p.name))
        except ValueError:  # 2026-02-30
            continue
    return sorted(found)


def read_file(path: Path) -> RawFile:
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    return _read_csv(path)


def _parse_csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(data), has_header=False, infer_schema=False, truncate_ragged_lines=True,
                       raise_if_empty=False, quote_char='"')


def _read_csv(path: Path) -> RawFile:
    raw = path.read_bytes()
    if len(raw) < 65536 and not raw.strip():
        raise UnreadableFile(f"文件 {path.name} 是空文件")
    _refuse_binary(path.name, raw)
    has_bom = raw.startswith(UTF8_BOM)
    data = raw[len(UTF8_BOM):] if has_bom else raw
    data, cut_fields = _cut_truncated_tail(data)
    encoding = "utf-8-sig" if has_bom else "utf-8"
    problems: list[str] = []
    checks = {"nul"} if b"\x00" in data else set()
    if len(data) > 10_000:
        checks.add("long")  # a cell over the limit needs a file at least that big
    try:
        # polars checks UTF-8 itself, which is far cheaper than decoding in Python first
        frame = _parse_csv(data)
    except pl.exceptions.PolarsError as first_error:
        if _is_utf8(data):
            raise UnreadableFile(f"文件 {path.name} 不是可解析的 CSV：{str(first_error).splitlines()[0][:200]}") from first_error
        encoding, text, problem = _decode_not_utf8(path.name, data, has_bom)
        if problem:
            problems.append(problem)
        if encoding == "utf-8":
            checks.add("undecodable")
        try:
            frame = _parse_csv(text.encode("utf-8"))
        except pl.exceptions.PolarsError as exc:
            raise UnreadableFile(f"文件 {path.name} 不是可解析的 CSV：{str(exc).splitlines()[0][:200]}") from exc
    if frame.height == 0:
        raise UnreadableFile(f"文件 {path.name} 没有表头行")
    headers = [("" if v is None else str(v)) for v in frame.row(0)]
    body = frame.slice(1)
    body.columns = [f"c{i}" for i in range(len(headers))]
    body = body.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    dropped = []
    if cut_fields is not None:
        row = body.height + 2
        dropped.append({"file": path.name, "row": row, "column": None, "raw_value": None,
                        "problem": f"文件在第 {row} 行中途截断（该行只有 {cut_fields} 个字段，表头有 {len(headers)} 列），该行未载入"})
    return RawFile(path=path, encoding=encoding, headers=headers, frame=body, problems=problems,
                   checks=frozenset(checks), dropped=dropped)


def _refuse_binary(name: str, raw: bytes) -> None:
    """A file that is not text at all (binary, UTF-16, a workbook renamed to .csv) is refused with its reason.
    A few stray NUL bytes in a text file are not refused: those rows are quarantined (ingest.damage)."""
    head = raw[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(f"文件 {name} 是 UTF-16 编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    if head.startswith(b"PK\x03\x04"):
        raise UnreadableFile(f"文件 {name} 实际是 ZIP/XLSX 文件，扩展名却是 .csv")
    control = sum(head.count(bytes([b])) for b in (*range(0, 9), 11, 12, *range(14, 32)))
    if control > max(8, len(head) // 100):
        raise UnreadableFile(f"文件 {name} 不是文本文件（前 {len(head):,} 字节中有 {control:,} 个控制字符），疑似二进制文件，整个文件未载入")


def _cut_truncated_tail(data: bytes) -> tuple[bytes, int | None]:
    """A file cut off in the middle of its last row: that row is taken out (and reported by the caller) instead of
    loading a half row, or failing the whole file on an unterminated quote. Returns (data, fields of the cut row).
    Only a last line without a line break can be cut; commas and quotes are ASCII in UTF-8 and GB18030 alike."""
    if not data or data.endswith((b"\n", b"\r")):
        return data, None
    last_break = max(data.rfind(b"\n"), data.rfind(b"\r"))
    if last_break < 0:
        return data, None  # a header without a line break
    tail, header = data[last_break + 1:], data[: data.find(b"\n") if b"\n" in data else len(data)]
    fields = _field_count(tail)
    if tail.count(b'"') % 2 == 0 and fields >= _field_count(header.rstrip(b"\r")):
        return data, None
    return data[: last_break + 1], fields


def _field_count(line: bytes) -> int:
    return len(next(csv.reader([line.decode("latin-1")]), []))


def _decode_not_utf8(name: str, data: bytes, has_bom: bool) -> tuple[str, str, str | None]:
    """Decide how to read a file that is not valid UTF-8: (encoding, text, problem to report or None).

    Mostly UTF-8 with a few bad bytes (a pasted GBK row, a damaged sector): UTF-8, the bad bytes become U+FFFD and
    their rows are quarantined. Otherwise GB18030 (a superset of GBK), even behind a UTF-8 BOM, which some tools
    write in front of whatever they export."""
    lenient = (f"文件 {name} 按 UTF-8 读取，但个别字节无法解码（与文件其余部分的编码不一致），这些行已隔离")
    if _mostly_utf8(data):
        return "utf-8", data.decode("utf-8", errors="replace"), lenient
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:  # neither: keep what UTF-8 can read, quarantine the rest
        return "utf-8", data.decode("utf-8", errors="replace"), lenient
    return "gb18030", text, (f"文件 {name} 带有 UTF-8 的 BOM 标记，内容却是 GB18030/GBK 编码，已按 GB18030 读取"
                             if has_bom else None)


def _mostly_utf8(data: bytes, sample: int = 65536) -> bool:
    """In the first 64 KiB, the three-byte UTF-8 characters (Chinese) outnumber the undecodable bytes four to one.
    GBK text hardly ever forms a three-byte UTF-8 sequence (its two-byte pairs can look like Cyrillic or Arabic,
    e.g. 元 = D4 AA, never like Chinese), so a real GBK file is far below that."""
    text = data[:sample].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    chinese = len(_THREE_BYTE.findall(text))
    return chinese > 0 and bad * 4 <= chinese


_THREE_BYTE = re.compile("[\u0800-\ufffc]")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cell_text(value, numeric_as_excel: bool) -> str | None:
    """Render an XLSX cell the way the department saw it; a number in an ID column becomes its Excel display."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        if numeric_as_excel and abs(value) >= 1e11:
            return f"{value:.5E}"  # what Excel shows: 1.50625E+17, digits lost
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def _read_xlsx(path: Path) -> RawFile:
    # openpyxl, not a faster reader, because only it tells a number cell from a text cell: an ID number typed as a
    # number has already lost its last digits and must be quarantined, not trusted. XLSX feeds are the small ones.
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(f"文件 {path.name} 不是有效的 XLSX 工作簿：{exc}") from exc
    problems = []
    try:
        sheet, problem = _first_visible_sheet(path.name, workbook)
        if problem:
            problems.append(problem)
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    header_index = _header_row(rows)
    if header_index is None:
        raise UnreadableFile(f"工作簿 {path.name} 的工作表「{sheet.title}」是空的")
    formulas = _formulas_without_result(path, sheet.title, rows, header_index) if _has_formulas(path) else []
    headers = [("" if v is None else str(v)) for v in rows[header_index]]
    while headers and headers[-1] == "" and not _column_has_data(rows[header_index + 1:], len(headers) - 1):
        headers.pop()  # a column without header and without data; one with data is kept (and reported)
    id_like = [_looks_like_id_header(h) for h in headers]
    records = {f"c{i}": [] for i in range(len(headers))}
    numbers = []
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(v not in (None, "") for v in row):
            continue
        numbers.append(offset)
        for i in range(len(headers)):
            value = row[i] if i < len(row) else None
            records[f"c{i}"].append(_cell_text(value, id_like[i]))
    frame = pl.DataFrame(records, schema={k: pl.Utf8 for k in records}).with_columns(
        pl.Series(ROW, numbers, dtype=pl.Int64)
    )
    if header_index > 0:
        problems.append(f"工作簿 {path.name} 的表头在第 {header_index + 1} 行（其上的标题行已跳过）")
    formula_cells = [{"file": path.name, "row": r, "column": headers[c] if c < len(headers) and headers[c] else f"第{c + 1}列",
                      "raw_value": f, "problem": f"「{headers[c] if c < len(headers) and headers[c] else f'第{c + 1}列'}」"
                                                 f"{_P_FORMULA}"}
                     for r, c, f in formulas if r in set(numbers)]
    return RawFile(path=path, encoding="xlsx", headers=headers, frame=frame, problems=problems,
                   formula_cells=formula_cells)


_P_FORMULA = "是 Excel 公式但文件中没有计算结果（请在 Excel 中重新计算并保存后再发送），该行未载入"


def _column_has_data(rows: list[tuple], index: int) -> bool:
    return any(index < len(r) and r[index] not in (None, "") for r in rows)


def _first_visible_sheet(name: str, workbook) -> tuple:
    """The first sheet a person sees when opening the workbook; hidden sheets before it are skipped, and any other
    sheet is reported as not read."""
    visible = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
    sheet = visible[0] if visible else workbook.worksheets[0]
    others = [s.title for s in workbook.worksheets if s is not sheet]
    if not others:
        return sheet, None
    hidden = [s.title for s in workbook.worksheets if getattr(s, "sheet_state", "visible") != "visible"]
    hidden_text = f"（其中隐藏的：{'、'.join(hidden)}）" if hidden else ""
    return sheet, (f"工作簿 {name} 有 {len(workbook.worksheets)} 个工作表，只读取第一个可见的「{sheet.title}」，"
                   f"未读取：{'、'.join(others)}{hidden_text}")


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
    import zipfile

    with zipfile.ZipFile(path) as archive:
        sheets = (archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        return any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def _formulas_without_result(path: Path, title: str, values: list[tuple], header_index: int) -> list[tuple]:
    """(sheet row number, column index, formula) of every formula cell below the header whose saved result is
    empty: a workbook written by a program, never opened in Excel, has formulas but no results."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = list(workbook[title].iter_rows(values_only=True))
    finally:
        workbook.close()
    found = []
    for i in range(header_index + 1, min(len(rows), len(values))):
        for c, formula in enumerate(rows[i]):
            if isinstance(formula, str) and formula.startswith("=") and (c >= len(values[i]) or values[i][c] in (None, "")):
                found.append((i + 1, c, formula))
    return found


def _looks_like_id_header(header: str) -> bool:
    return "证件号码" in header or "身份证" in header
