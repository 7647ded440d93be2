"""Find a feed's files in a delivery folder and read them as text, whatever encoding or format they arrived in.

Every cell comes back as a string (or null) so that nothing is guessed before the contract is applied; ID numbers
stay exactly as delivered. Row numbers are what a person sees in the file: the header is row 1 in a CSV, and in an
XLSX the sheet's own row numbers are kept.
"""

from __future__ import annotations

import errno
import re
import time
from datetime import date
from pathlib import Path

import polars as pl

from fangfanpin.config.policy import FileLimits
from fangfanpin.ingest.csv_records import RecordError, split_records
from fangfanpin.ingest.landing import scan_delivery
from fangfanpin.ingest.rawfile import RawFile, UnreadableFile
from fangfanpin.ingest.xlsx import read_xlsx
from fangfanpin.schema import ROW

__all__ = ["ROW", "RawFile", "UnreadableFile", "delivery_dates", "delivery_dir", "find_feed_files", "read_file"]

UTF8_BOM = b"\xef\xbb\xbf"
DEFAULT_LIMITS = FileLimits()


def delivery_dir(landing_dir: Path, delivery_date: date) -> Path:
    return Path(landing_dir) / delivery_date.isoformat()


def find_feed_files(landing_dir: Path, delivery_date: date, feed: str) -> list[Path]:
    """The files that together are ``feed``'s delivery for the date, ``<feed>.csv`` or ``<feed>_<anything>.xlsx``;
    entries that are not read (a link out of the landing folder, a folder) are listed by ``ingest.landing``."""
    return [e.path for e in scan_delivery(landing_dir, delivery_date) if e.feed == feed and e.read]


def delivery_dates(landing_dir: Path) -> list[date]:
    """Every delivery folder's date, oldest first: only folders named by a real date as YYYY-MM-DD, the name
    ``delivery_dir`` gives (``20260917`` or ``2026-9-18`` would be read as an empty delivery; the commands report such
    folders, assets/delivery_runs.py)."""
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


def read_file(path: Path, limits: FileLimits = DEFAULT_LIMITS) -> RawFile:
    """Read one delivered file as text. Raises UnreadableFile (Chinese, naming the file) when nothing of it can be
    read: unreadable, over a limit, not a CSV or XLSX at all."""
    deadline = time.monotonic() + limits.max_seconds
    try:
        size = path.stat().st_size
        if size > limits.max_file_mb * 2**20:
            raise UnreadableFile(
                f"文件 {path.name} 有 {size / 2**20:,.0f} MB，超过上限 {limits.max_file_mb:,.0f} MB，整个文件未载入"
            )
        if path.suffix.lower() == ".xlsx":
            return read_xlsx(path, limits, deadline)
        return _read_csv(path, limits, deadline)
    except OSError as error:
        raise UnreadableFile(f"文件 {path.name} 无法读取（{_os_reason(error)}），整个文件未载入") from None


def _os_reason(error: OSError) -> str:
    reasons = {
        errno.EACCES: "没有读取权限",
        errno.EPERM: "没有读取权限",
        errno.ENOENT: "读取时文件已不存在",
        errno.EISDIR: "是文件夹而不是文件",
        errno.EIO: "磁盘读取错误",
    }
    return reasons.get(error.errno, f"系统错误 {errno.errorcode.get(error.errno, error.errno)}")


def _read_csv(path: Path, limits: FileLimits, deadline: float) -> RawFile:
    raw = path.read_bytes()
    if len(raw) < 65536 and not raw.strip():
        raise UnreadableFile(f"文件 {path.name} 是空文件")
    _refuse_binary(path.name, raw)
    has_bom = raw.startswith(UTF8_BOM)
    data = raw[len(UTF8_BOM) :] if has_bom else raw
    del raw
    data, problems = _normalise_line_breaks(path.name, data)
    encoding = "utf-8-sig" if has_bom else "utf-8"
    checks = {"nul"} if b"\x00" in data else set()
    if len(data) > 10_000:
        checks.add("long")  # a cell over the limit needs a file at least that big
    try:
        try:
            records = split_records(path.name, data, max_columns=limits.max_columns, deadline=deadline)
        except UnicodeDecodeError:
            encoding, text, problem = _decode_not_utf8(path.name, data, has_bom)
            if problem:
                problems.append(problem)
            if encoding == "utf-8":
                checks.add("undecodable")
            records = split_records(path.name, text.encode("utf-8"), max_columns=limits.max_columns, deadline=deadline)
    except RecordError as error:
        raise UnreadableFile(str(error)) from None
    except pl.exceptions.PolarsError:  # the lines were checked before parsing: this is not a CSV file at all
        raise UnreadableFile(f"文件 {path.name} 不是可解析的 CSV 文件，整个文件未载入") from None
    return RawFile(
        path=path,
        encoding=encoding,
        headers=records.headers,
        frame=records.frame,
        problems=problems + records.remarks,
        checks=frozenset(checks),
        dropped=records.issues,
        row_notes=records.notes,
    )


def _normalise_line_breaks(name: str, data: bytes) -> tuple[bytes, list[str]]:
    """Line breaks as LF or CRLF only. A bare CR (old Excel "CSV (Macintosh)", or a stray one among CRLF and LF) is
    a line break: the records it splits then have the wrong number of fields and are quarantined, instead of whole
    lines vanishing into the header."""
    if b"\r" not in data:
        return data, []
    bare_cr = data.count(b"\r") - data.count(b"\r\n")
    if not bare_cr:
        return data, []
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data, [f"文件 {name} 中有 {bare_cr:,} 处单独的回车符（CR）作换行（旧版 Mac 格式或换行符混用），已按换行读取"]


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
        raise UnreadableFile(
            f"文件 {name} 不是文本文件（前 {len(head):,} 字节中有 {control:,} 个控制字符），疑似二进制文件，整个文件未载入"
        )


def _decode_not_utf8(name: str, data: bytes, has_bom: bool) -> tuple[str, str, str | None]:
    """Decide how to read a file that is not valid UTF-8: (encoding, text, problem to report or None).

    Mostly UTF-8 with a few bad bytes (a pasted GBK row, a damaged sector): UTF-8, the bad bytes become U+FFFD and
    their rows are quarantined. Otherwise GB18030 (a superset of GBK), even behind a UTF-8 BOM, which some tools
    write in front of whatever they export."""
    lenient = f"文件 {name} 按 UTF-8 读取，但个别字节无法解码（与文件其余部分的编码不一致），这些行已隔离"
    if _mostly_utf8(data):
        return "utf-8", data.decode("utf-8", errors="replace"), lenient
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:  # neither: keep what UTF-8 can read, quarantine the rest
        return "utf-8", data.decode("utf-8", errors="replace"), lenient
    return (
        "gb18030",
        text,
        (f"文件 {name} 带有 UTF-8 的 BOM 标记，内容却是 GB18030/GBK 编码，已按 GB18030 读取" if has_bom else None),
    )


def _mostly_utf8(data: bytes, sample: int = 65536) -> bool:
    """In the first 64 KiB, the three-byte UTF-8 characters (Chinese) outnumber the undecodable bytes four to one.
    GBK text hardly ever forms a three-byte UTF-8 sequence (its two-byte pairs can look like Cyrillic or Arabic,
    e.g. 元 = D4 AA, never like Chinese), so a real GBK file is far below that."""
    text = data[:sample].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    chinese = len(_THREE_BYTE.findall(text))
    return chinese > 0 and bad * 4 <= chinese


_THREE_BYTE = re.compile("[\u0800-\ufffc]")
