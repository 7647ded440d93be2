"""Find a feed's files in a delivery folder and read them as text, whatever encoding or format they arrived in.

Every cell comes back as a string (or null) so that nothing is guessed before the contract is applied; ID numbers
stay exactly as delivered. Row numbers are what a person sees in the file: the header is row 1 in a CSV, and in an
XLSX the sheet's own row numbers are kept.
"""

from __future__ import annotations

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
    """Every delivery folder's date, oldest first; folders not named YYYY-MM-DD are ignored."""
    root = Path(landing_dir)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        if not p.is_dir():
            continue
        try:
            found.append(date.fromisoformat(p.name))
        except ValueError:
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
    if b"\x00" in raw:
        raise UnreadableFile(f"文件 {path.name} 含有 NUL 字节，不是文本格式的 CSV")
    has_bom = raw.startswith(UTF8_BOM)
    data = raw[len(UTF8_BOM):] if has_bom else raw
    encoding = "utf-8-sig" if has_bom else "utf-8"
    try:
        # polars checks UTF-8 itself, which is far cheaper than decoding in Python first
        frame = _parse_csv(data)
    except pl.exceptions.PolarsError as first_error:
        if has_bom or _is_utf8(data):
            raise UnreadableFile(f"文件 {path.name} 不是可解析的 CSV：{str(first_error).splitlines()[0][:200]}") from first_error
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"文件 {path.name} 既不是 UTF-8 也不是 GB18030/GBK 编码（第 {exc.start} 字节无法解码）") from exc
        encoding = "gb18030"
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
    return RawFile(path=path, encoding=encoding, headers=headers, frame=body)


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
        sheet = workbook.worksheets[0]
        if len(workbook.worksheets) > 1:
            problems.append(f"工作簿 {path.name} 有 {len(workbook.worksheets)} 个工作表，只读取第一个「{sheet.title}」")
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    header_index = next((i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)), None)
    if header_index is None:
        raise UnreadableFile(f"工作簿 {path.name} 的第一个工作表是空的")
    headers = [("" if v is None else str(v)) for v in rows[header_index]]
    while headers and headers[-1] == "":
        headers.pop()
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
        problems.append(f"工作簿 {path.name} 的表头在第 {header_index + 1} 行")
    return RawFile(path=path, encoding="xlsx", headers=headers, frame=frame, problems=problems)


def _looks_like_id_header(header: str) -> bool:
    return "证件号码" in header or "身份证" in header
