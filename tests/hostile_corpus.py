"""A hostile delivery, made from a real generated one: each function below writes one kind of damaged file into a
landing folder, built from the rows the project's generator delivered (never a hand-kept file).

    cases = build_hostile_landing(small_landing, landing)   # day 1: the real delivery + every hostile file
                                                            # day 2: a ten-fold spike and an empty roster snapshot

Each ``HostileCase`` says where its message must appear (quarantine, reports or the file summary) and how many of
its file's rows must still load. Feed: medical_claims (an increment) unless the case needs another feed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from landing_helpers import copy_delivery, read_text_rows, write_csv

from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest.headers import header_key
from fangfanpin.ingest.prepare import prepare_delivery
from fangfanpin.ingest.read import delivery_dates, find_feed_files, read_file

CLAIMS = "medical_claims"
Rows = list[list[str]]


@dataclass(frozen=True)
class HostileCase:
    name: str
    feed: str
    file: str
    where: str  # "quarantine", "reports" or "rejected" (the whole file refused, named in the quarantine)
    message: str  # a substring of the Chinese message
    loads: int  # rows of this file that must still load
    row: int | None = None  # the row the message must name
    column: str | None = None  # the column the message must name


@cache
def _clean_claims(source: Path, day: date) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(header, the 正常 settlements of the delivered claims file that load cleanly), read and prepared once."""
    path = find_feed_files(source, day, CLAIMS)[0]
    raw = read_file(path)
    prepared = prepare_delivery(load_contract(CLAIMS), [path], day)
    clean = set(prepared.rows.get_column("_row")) - set(prepared.reports.get_column("row").drop_nulls())
    kind = _col(raw.headers, "结算类型")
    body = raw.frame.select([f"c{i}" for i in range(len(raw.headers))] + ["_row"]).rows()
    return tuple(raw.headers), tuple(r[:-1] for r in body if r[-1] in clean and r[kind] == "正常")


def _claims(source: Path, day: date, case: str, n: int = 12) -> Rows:
    """The first ``n`` clean 正常 settlements (the generator's heavy messy values quarantine some), under new
    settlement numbers (``case-…``) so that they are new events rather than copies of the real file's rows: every
    row of a hostile file loads unless the hostile part touches it."""
    header, body = _clean_claims(source, day)
    sid = _col(list(header), "结算流水号")
    picked = [list(r) for r in body[:n]]
    for r in picked:
        r[sid] = f"{case}-{r[sid]}"
    return [list(header)] + picked


def _bad_cell(
    folder: Path, source: Path, day: date, case: str, suffix: str, column: str, row: int, change
) -> tuple[Path, Rows]:
    """Clean claims with the cell of ``column`` in file row ``row`` (the header is row 1) replaced by change(cell)."""
    rows = _claims(source, day, case)
    i = _col(rows[0], column)
    rows[row - 1][i] = change(rows[row - 1][i])
    path = folder / f"{CLAIMS}_hostile_{suffix}.csv"
    path.write_bytes(_csv_bytes(rows))
    return path, rows


def _col(header: list[str], wanted: str) -> int:
    """Where a contract header is in a delivered header row (written with full-width brackets or spaces maybe)."""
    return [header_key(h) for h in header].index(header_key(wanted))


def _csv_bytes(rows: Rows, encoding: str = "utf-8") -> bytes:
    import polars as pl

    frame = pl.DataFrame(rows[1:], schema=[f"c{i}" for i in range(len(rows[0]))], orient="row")
    header = ",".join(_quote(h) for h in rows[0]) + "\n"
    return (header + frame.write_csv(include_header=False)).encode(encoding)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


# ---------------------------------------------------------------- one function per hostile input


def empty_file(folder: Path, source: Path, day: date) -> HostileCase:
    path = folder / f"{CLAIMS}_hostile_empty.csv"
    path.write_bytes(b"")
    return HostileCase("empty file (0 bytes)", CLAIMS, path.name, "rejected", "是空文件", 0)


def header_only(folder: Path, source: Path, day: date) -> HostileCase:
    path = folder / f"{CLAIMS}_hostile_header.csv"
    path.write_bytes(_csv_bytes(_claims(source, day, "H")[:1]))
    return HostileCase("header only", CLAIMS, path.name, "reports", "只有表头", 0)


def truncated_mid_row(folder: Path, source: Path, day: date) -> HostileCase:
    rows = _claims(source, day, "T")
    data = _csv_bytes(rows)
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    path = folder / f"{CLAIMS}_hostile_truncated.csv"
    path.write_bytes(data[: last + (len(data) - last) // 2])  # cut inside the last row
    return HostileCase(
        "CSV truncated mid-row", CLAIMS, path.name, "quarantine", "中途截断", len(rows) - 2, row=len(rows)
    )


def gbk_behind_utf8_bom(folder: Path, source: Path, day: date) -> HostileCase:
    """Looks UTF-8 (it starts with the UTF-8 BOM) but is GBK."""
    rows = _claims(source, day, "G")
    path = folder / f"{CLAIMS}_hostile_bom_gbk.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv_bytes(rows, "gbk"))
    return HostileCase("GBK behind a UTF-8 BOM", CLAIMS, path.name, "reports", "内容却是 GB18030/GBK", len(rows) - 1)


def utf8_with_a_gbk_row(folder: Path, source: Path, day: date) -> HostileCase:
    """Looks UTF-8 (it is, but for one pasted row that is GBK)."""
    rows = _claims(source, day, "M", n=30)
    lines = _csv_bytes(rows).split(b"\n")
    lines[3] = lines[3].decode("utf-8").encode("gbk")
    path = folder / f"{CLAIMS}_hostile_mixed.csv"
    path.write_bytes(b"\n".join(lines))
    return HostileCase(
        "UTF-8 file with one GBK row",
        CLAIMS,
        path.name,
        "quarantine",
        "无法按文件编码解码",
        len(rows) - 2,
        row=4,
        column="姓名",
    )


def utf8_that_looks_gbk(folder: Path, source: Path, day: date) -> HostileCase:
    """UTF-8 bytes that GB18030 would also decode (to other characters): must be read as UTF-8."""
    rows = _claims(source, day, "U")
    path = folder / f"{CLAIMS}_hostile_utf8.csv"
    path.write_bytes(_csv_bytes(rows, "utf-8"))
    return HostileCase("UTF-8 that would also decode as GBK", CLAIMS, path.name, "none", "", len(rows) - 1)


def binary_named_csv(folder: Path, source: Path, day: date) -> HostileCase:
    path = folder / f"{CLAIMS}_hostile_binary.csv"
    path.write_bytes(random.Random(8).randbytes(4096))
    return HostileCase("binary garbage named .csv", CLAIMS, path.name, "rejected", "不是文本文件", 0)


def duplicate_headers(folder: Path, source: Path, day: date) -> HostileCase:
    rows = _claims(source, day, "D")
    name = _col(rows[0], "姓名")
    out = [rows[0] + ["姓名", "备注", "备注"]]
    for i, r in enumerate(rows[1:]):
        out.append(r + [r[name] if i else "另一个名字", f"备注一{i}", f"备注二{i}"])
    path = folder / f"{CLAIMS}_hostile_dupheader.csv"
    path.write_bytes(_csv_bytes(out))
    return HostileCase(
        "duplicate headers", CLAIMS, path.name, "reports", "取值与所用的第", len(rows) - 1, row=2, column="姓名"
    )


def nul_bytes(folder: Path, source: Path, day: date) -> HostileCase:
    path, rows = _bad_cell(folder, source, day, "N", "nul", "姓名", 3, lambda v: v[:1] + "\x00\x00" + v[1:])
    return HostileCase(
        "NUL bytes inside a field", CLAIMS, path.name, "quarantine", "NUL", len(rows) - 2, row=3, column="姓名"
    )


def one_megabyte_field(folder: Path, source: Path, day: date) -> HostileCase:
    path, rows = _bad_cell(
        folder, source, day, "B", "hugefield", "姓名", 5, lambda v: v * ((1 << 20) // max(1, len(v.encode())))
    )
    return HostileCase("a 1 MB field", CLAIMS, path.name, "quarantine", "超过上限", len(rows) - 2, row=5, column="姓名")


def impossible_date(folder: Path, source: Path, day: date) -> HostileCase:
    path, rows = _bad_cell(folder, source, day, "X", "baddate", "结算日期", 2, lambda v: "2023-02-30")
    return HostileCase(
        "impossible date 2023-02-30",
        CLAIMS,
        path.name,
        "quarantine",
        "日期不存在",
        len(rows) - 2,
        row=2,
        column="结算日期",
    )


def future_date(folder: Path, source: Path, day: date) -> HostileCase:
    """A settlement dated after the delivery date: loaded and reported (the windows ignore it until its date)."""
    path, rows = _bad_cell(folder, source, day, "F", "future", "结算日期", 2, lambda v: "2099-01-01")
    return HostileCase(
        "future date 2099-01-01",
        CLAIMS,
        path.name,
        "reports",
        "日期晚于数据日期",
        len(rows) - 1,
        row=2,
        column="结算日期",
    )


def negative_claim_amount(folder: Path, source: Path, day: date) -> HostileCase:
    """A 正常 settlement with a negative total: the amount's sign contradicts the settlement type."""
    path, rows = _bad_cell(folder, source, day, "S", "negative", "医疗总费用(元)", 2, lambda v: "-" + v)
    return HostileCase(
        "negative amount on a 正常 settlement",
        CLAIMS,
        path.name,
        "quarantine",
        "正负号",
        len(rows) - 2,
        row=2,
        column="结算类型",
    )


def negative_income(folder: Path, source: Path, day: date) -> HostileCase:
    """The delivered household_income file itself, with a negative 工资性收入 (amounts there are ≥ 0)."""
    path = find_feed_files(folder.parent, day, "household_income")[0]
    rows = read_text_rows(path)
    loads = prepare_delivery(load_contract("household_income"), [path], day).rows_loaded  # a nulled value drops no row
    path.unlink()
    rows[1][_col(rows[0], "工资性收入(元)")] = "-1,200.00"
    path = folder / "household_income_150625.csv"
    path.write_bytes(_csv_bytes(rows))
    return HostileCase(
        "negative amount where not allowed (optional column)",
        "household_income",
        path.name,
        "reports",
        "金额不应为负数",
        loads,
        row=2,
        column="工资性收入(元)",
    )


def messy_workbook(folder: Path, source: Path, day: date) -> HostileCase:
    """XLSX: a hidden first sheet, a merged title row, the header on row 3 with one header cell merged over two
    columns, and a formula without a saved result (openpyxl writes none)."""
    from openpyxl import Workbook

    rows = _claims(source, day, "W")
    header = rows[0]
    workbook = Workbook()
    hidden = workbook.active
    hidden.title = "填表说明"
    hidden["A1"] = "本表由医保系统导出"
    sheet = workbook.create_sheet("结算明细")
    hidden.sheet_state = "hidden"
    workbook.active = 1
    width = len(header) + 1
    sheet.cell(1, 1, "杭锦旗医疗费用结算明细表")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for c, h in enumerate(header, start=1):
        sheet.cell(3, c, h)
    sheet.merge_cells(start_row=3, start_column=len(header), end_row=3, end_column=width)  # last header over 2 cols
    burden = header.index("个人负担(元)")
    for r, row in enumerate(rows[1:], start=4):
        for c, value in enumerate(row, start=1):
            sheet.cell(r, c, value)
    sheet.cell(5, burden + 1, "=I5-J5-K5-L5")  # a formula Excel never computed
    sheet.cell(6, width, "备注：已核对")  # data under the second half of the merged header
    path = folder / f"{CLAIMS}_hostile_workbook.xlsx"
    workbook.save(path)
    return HostileCase(
        "XLSX: hidden sheet, merged title and header cells, formula, header on row 3",
        CLAIMS,
        path.name,
        "quarantine",
        "没有计算结果",
        len(rows) - 2,
        row=5,
        column="个人负担(元)",
    )


DAY1_CASES = [
    empty_file,
    header_only,
    truncated_mid_row,
    gbk_behind_utf8_bom,
    utf8_with_a_gbk_row,
    utf8_that_looks_gbk,
    binary_named_csv,
    duplicate_headers,
    nul_bytes,
    one_megabyte_field,
    impossible_date,
    future_date,
    negative_claim_amount,
    negative_income,
    messy_workbook,
]


# ---------------------------------------------------------------- the second delivery


def volume_spike(folder: Path, source: Path, day: date) -> HostileCase:
    """Ten times the usual claims, all distinct events: the drift check warns, everything loads."""
    path = find_feed_files(folder.parent, day, CLAIMS)[0]
    rows = read_text_rows(path)
    path.unlink()
    sid = _col(rows[0], "结算流水号")
    spiked = [rows[0]] + [r[:sid] + [f"{r[sid]}-{k}"] + r[sid + 1 :] for k in range(10) for r in rows[1:]]
    path = folder / f"{CLAIMS}_150625.csv"
    write_csv(spiked, path, "utf-8")
    return HostileCase("ten-fold volume spike", CLAIMS, path.name, "none", "", len(spiked) - 1)


def empty_snapshot(folder: Path, source: Path, day: date) -> HostileCase:
    """The roster arrives with its header and not one row."""
    path = find_feed_files(folder.parent, day, "roster")[0]
    header = read_text_rows(path)[0]
    path.unlink()
    path = folder / "roster_150625.csv"
    path.write_bytes(_csv_bytes([header]))
    return HostileCase("snapshot with zero rows", "roster", path.name, "reports", "只有表头", 0)


DAY2_CASES = [volume_spike, empty_snapshot]


def build_hostile_landing(source: Path, landing: Path) -> tuple[list[date], list[HostileCase]]:
    """Copy the first two real deliveries of ``source`` into ``landing`` and add every hostile file."""
    days = delivery_dates(source)[:2]
    cases = []
    for day, makers in zip(days, (DAY1_CASES, DAY2_CASES)):
        folder = copy_delivery(source, day, landing)
        cases += [(day, make(folder, source, day)) for make in makers]
    return days, cases
