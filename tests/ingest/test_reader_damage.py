"""Files as departments really send them, read through ingest: no row lost or altered in silence.

Each test takes a delivery made by the generator, damages it the way real exports and real operations do, and
checks that every record was loaded exactly as written or quarantined (or reported) with a Chinese reason naming
file, row and column, that the counts reconcile, and that the rest of the delivery still loads.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import zipfile
from datetime import date

import duckdb
import openpyxl
import polars as pl
import pytest
from landing_helpers import copy_delivery, first_date, read_text_rows

from fangfanpin.config.policy import FileLimits
from fangfanpin.data_contracts import load_contract
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.landing import record_landing, scan_delivery
from fangfanpin.ingest.prepare import prepare_delivery
from fangfanpin.ingest.read import UnreadableFile, find_feed_files, read_file
from fangfanpin.ingest.warehouse import ensure_schema

pytestmark = pytest.mark.warehouse

CLAIMS = "medical_claims"


def _roster(small_landing, tmp_path):
    day = first_date(small_landing)
    folder = copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster"])
    return day, next(folder.glob("roster*"))


def _csv_lines(path) -> tuple[list[str], str]:
    """A generated CSV's lines as text, and its encoding."""
    raw = read_file(path)
    data = path.read_bytes()
    text = data.decode("gb18030" if raw.encoding == "gb18030" else "utf-8-sig")
    return text.replace("\r\n", "\n").split("\n")[:-1], raw.encoding


def _loaded(con, feed: str, day: date) -> pl.DataFrame:
    return con.sql(f'SELECT * FROM "{feed}_delivery"(?::DATE)', params=[day]).pl()


def _reference(small_landing, tmp_path, day, feed="roster") -> pl.DataFrame:
    """The feed loaded from the undamaged file, for comparison."""
    con = duckdb.connect(str(tmp_path / "reference.duckdb"))
    ingest_feed(con, load_contract("roster"), small_landing, day)
    if feed != "roster":
        ingest_feed(con, load_contract(feed), small_landing, day)
    return _loaded(con, feed, day)


def _same_rows(a: pl.DataFrame, b: pl.DataFrame, key: str = "id_number") -> bool:
    columns = [c for c in a.columns if not c.startswith("_")]
    return a.select(columns).sort(key).equals(b.select(columns).sort(key))


# ------------------------------------------------------------------------------------------------ line endings
@pytest.mark.parametrize("ending", ["\r", "mixed"])
def test_a_file_with_old_mac_or_mixed_line_breaks_loads_every_row(small_landing, tmp_path, ending):
    day, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    breaks = ["\r"] * len(lines) if ending == "\r" else [("\r\n", "\n", "\r")[i % 3] for i in range(len(lines))]
    path.write_bytes("".join(line + end for line, end in zip(lines, breaks)).encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    outcome = ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    reference = _reference(small_landing, tmp_path, day)
    assert outcome.prepared.reconciles
    assert outcome.prepared.rows_read == len(lines) - 1
    assert _same_rows(_loaded(con, "roster", day), reference)
    assert any("回车符（CR）" in p for p in outcome.prepared.reports.get_column("problem"))


def test_a_stray_cr_inside_a_cell_splits_the_record_and_both_halves_are_quarantined(small_landing, tmp_path):
    day, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    victim = lines[5].split(",")
    victim[2] = victim[2][:1] + "\r" + victim[2][1:]  # 姓名 broken by a stray CR
    lines[5] = ",".join(victim)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    prepared = ingest_feed(con, load_contract("roster"), tmp_path / "landing", day).prepared
    assert prepared.reconciles and prepared.rows_read == len(lines)  # one record more: the two halves
    halves = prepared.quarantine.filter(pl.col("problem").str.contains("字段数与表头不符"))
    assert halves.get_column("row").to_list() == [6, 7]
    reference = _reference(small_landing, tmp_path, day)
    assert _same_rows(_loaded(con, "roster", day), reference.filter(pl.col("_row") != 6))


# ---------------------------------------------------------------------------------------------- ragged rows
def test_an_unquoted_thousands_comma_quarantines_the_row_instead_of_loading_1_yuan(small_landing, tmp_path):
    day = first_date(small_landing)
    folder = copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster", CLAIMS])
    path = next(folder.glob(f"{CLAIMS}*"))
    lines, encoding = _csv_lines(path)
    header = lines[0].split(",")
    total = header.index("医疗总费用(元)")
    row = next(i for i, line in enumerate(lines[1:], start=1) if '"' not in line and line.count(",") == len(header) - 1)
    cells = lines[row].split(",")
    cells[total] = "1,234.50"  # as typed in Excel and exported without quotes
    lines[row] = ",".join(cells)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    prepared = ingest_feed(con, load_contract(CLAIMS), tmp_path / "landing", day).prepared
    assert prepared.reconciles
    found = prepared.quarantine.filter(pl.col("row") == row + 1)
    assert "字段数与表头不符（该行有" in found.get_column("problem")[0]
    assert "1,234.50" in found.get_column("raw_value")[0]
    placed = con.execute(
        'SELECT county_code FROM quarantine WHERE feed = ? AND "row" = ?', [CLAIMS, row + 1]
    ).fetchall()
    assert placed == [("150625",)]  # a line that has no fields to place it by goes to the county its file names
    settlement = cells[header.index("结算流水号")]
    assert (
        con.execute("SELECT count(*) FROM medical_claims WHERE settlement_id = ?", [settlement]).fetchall()[0][0] == 0
    )


# --------------------------------------------------------------------------------------------------- quotes
def test_an_unterminated_quote_costs_its_own_line_only(small_landing, tmp_path):
    day, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    plain = [i for i, line in enumerate(lines[1:], start=1) if '"' not in line]
    broken = plain[len(plain) // 2]
    cells = lines[broken].split(",")
    cells[2] = '"' + cells[2]  # an opening quote typed before a name, never closed
    lines[broken] = ",".join(cells)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    prepared = ingest_feed(con, load_contract("roster"), tmp_path / "landing", day).prepared
    reference = _reference(small_landing, tmp_path, day)
    assert prepared.reconciles and prepared.rows_read == len(lines) - 1
    quote = prepared.quarantine.filter(pl.col("problem").str.contains("引号不配对"))
    assert quote.get_column("row").to_list() == [broken + 1]
    assert _same_rows(_loaded(con, "roster", day), reference.filter(pl.col("_row") != broken + 1))


# ----------------------------------------------------------------------------------------------------- XLSX
def _workbook(rows: list[list], path, numbers: dict[tuple[int, int], float] | None = None) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for (r, c), value in (numbers or {}).items():
        sheet.cell(row=r, column=c, value=value)
    workbook.save(path)


def _econ_rows(small_landing) -> tuple[date, list[list[str]]]:
    day = next(
        d for d in sorted(p.name for p in small_landing.iterdir()) if list((small_landing / d).glob("econ_check*"))
    )
    path = next((small_landing / day).glob("econ_check*"))
    return date.fromisoformat(day), read_text_rows(path)


def test_a_workbook_whose_declared_range_is_out_of_date_loses_no_row(small_landing, tmp_path):
    _, rows = _econ_rows(small_landing)
    path = tmp_path / "econ_check_1.xlsx"
    _workbook(rows, path)
    _rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:C3"/>', xml),
    )
    assert b'ref="A1:C3"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    raw = read_file(path)
    assert raw.frame.height == len(rows) - 1
    assert raw.headers == rows[0]
    assert [list(r) for r in raw.frame.drop("_row").rows()] == rows[1:]


def _rewrite_part(path, name: str, change) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[name] = change(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)


def test_an_encrypted_workbook_is_named_as_such(small_landing, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    _, rows = _econ_rows(small_landing)
    plain = tmp_path / "plain.xlsx"
    _workbook(rows, plain)
    encrypted = tmp_path / "econ_check_pw.xlsx"
    with plain.open("rb") as src, encrypted.open("wb") as out:
        OOXMLFile(src).encrypt("123456", out)
    with pytest.raises(UnreadableFile, match="已加密"):
        read_file(encrypted)


def test_a_15_digit_id_stored_as_a_number_is_exact_and_a_longer_one_is_quarantined(small_landing, tmp_path):
    day, rows = _econ_rows(small_landing)
    id_col = rows[0].index("证件号码")
    old = rows[1][id_col]
    fifteen = int(old[:6] + old[8:17])  # the old format of the same person's number
    path = tmp_path / "landing" / day.isoformat() / "econ_check_numbers.xlsx"
    path.parent.mkdir(parents=True)
    _workbook(rows, path, {(2, id_col + 1): fifteen, (3, id_col + 1): float(rows[2][id_col][:17] + "0")})
    copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster"])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    prepared = ingest_feed(con, load_contract("econ_check"), tmp_path / "landing", day).prepared
    assert prepared.reconciles
    converted = prepared.rows.filter(pl.col("_row") == 2).get_column("id_number").to_list()
    assert converted == [old[:17] + converted[0][17]] and converted[0][:17] == old[:17]
    assert prepared.reports.filter((pl.col("row") == 2) & pl.col("problem").str.contains("15位")).height == 1
    assert "科学计数法" in prepared.quarantine.filter(pl.col("row") == 3).get_column("problem")[0]


def test_a_byte_order_mark_mid_file_is_no_part_of_a_key(small_landing, tmp_path):
    day, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    half = len(lines) // 2
    body = (
        "\n".join(lines[:half]) + "\n\ufeff" + "\n".join(lines[half:]) + "\n"
    )  # two exports joined, the second's BOM kept
    path.write_bytes(body.encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    outcome = ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    assert outcome.prepared.reconciles
    ids = _loaded(con, "roster", day).get_column("household_id")
    assert not ids.str.contains("\ufeff").any()
    assert _same_rows(_loaded(con, "roster", day), _reference(small_landing, tmp_path, day))


# --------------------------------------------------------------------------------------------------- limits
def test_an_xlsx_that_unzips_to_a_bomb_is_refused_and_the_rest_of_the_delivery_loads(small_landing, tmp_path):
    day, rows = _econ_rows(small_landing)
    folder = copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster", "econ_check"])
    bomb = folder / "econ_check_bomb.xlsx"
    _workbook(rows[:3], bomb)
    _rewrite_part(
        bomb,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</worksheet>", b"<!--" + b" " * 60_000_000 + b"--></worksheet>"),
    )
    assert bomb.stat().st_size < 200_000
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    prepared = ingest_feed(con, load_contract("econ_check"), tmp_path / "landing", day).prepared
    refused = prepared.quarantine.filter(pl.col("file") == bomb.name).get_column("problem").to_list()
    assert refused and "疑似压缩炸弹" in refused[0]
    assert (
        prepared.rows_loaded
        == len(rows) - 1 - prepared.quarantine.filter(pl.col("file") != bomb.name).get_column("row").n_unique()
    )


def test_a_cell_declared_at_column_xfd_is_refused_quickly_by_the_column_limit(tmp_path):
    path = tmp_path / "econ_check_far.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"], workbook.active["B1"] = "证件号码", "核对日期"
    workbook.active["XFD100000"] = "x"
    workbook.save(path)
    assert path.stat().st_size < 10_000
    with pytest.raises(UnreadableFile, match="超过上限 1,000 列"):
        read_file(path)


def test_a_workbook_over_the_cell_limit_is_refused(small_landing, tmp_path):
    _, rows = _econ_rows(small_landing)
    path = tmp_path / "econ_check_big.xlsx"
    _workbook(rows, path)
    assert read_file(path, dataclasses.replace(FileLimits(), max_cells=len(rows) * len(rows[0]))).frame.height
    with pytest.raises(UnreadableFile, match="单元格超过上限"):
        read_file(path, dataclasses.replace(FileLimits(), max_cells=len(rows[0])))


def test_a_file_over_the_time_limit_is_refused(small_landing, tmp_path):
    _, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    lines = lines[:1] + ['"' + line for line in lines[1:]]  # every record opens a quote: slow to take apart
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding.replace("-sig", "")))
    with pytest.raises(UnreadableFile, match="时间上限"):
        read_file(path, dataclasses.replace(FileLimits(), max_seconds=1e-6))


# -------------------------------------------------------------------------------------- the landing folder
def test_what_is_in_the_landing_folder_is_listed_and_nothing_outside_it_is_read(small_landing, tmp_path):
    day = first_date(small_landing)
    landing = tmp_path / "landing"
    folder = copy_delivery(small_landing, day, landing, feeds=["roster", CLAIMS])
    secret = tmp_path / "secret.csv"
    secret.write_text("机密,内容\n150625,不应被读取\n", encoding="utf-8")
    (folder / "students_150625.csv").symlink_to(secret)  # a link named like a feed, leading out of the landing folder
    (folder / "visit_resuls_150625.xlsx").write_bytes(b"typo")  # a typo in the feed name
    (folder / "county_decisions_150625.xls").write_bytes(b"\xd0\xcf\x11\xe0")  # Excel 97-2003
    (folder / "household_income_150625.csv").mkdir()  # a folder named like a feed file
    entries = {e.name: e for e in scan_delivery(landing, day)}
    assert not entries["students_150625.csv"].read and "落地目录以外" in entries["students_150625.csv"].problem
    assert "visit_results" in entries["visit_resuls_150625.xlsx"].problem
    assert ".xls" in entries["county_decisions_150625.xls"].problem
    assert "文件夹" in entries["household_income_150625.csv"].problem
    assert find_feed_files(landing, day, "students") == [] and find_feed_files(landing, day, "household_income") == []
    assert all(entries[p.name].read for f in ("roster", CLAIMS) for p in find_feed_files(landing, day, f))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    record_landing(con, day, list(entries.values()), frozenset({"150625"}))
    not_read = con.execute(
        "SELECT name, county_code FROM landing_files WHERE problem IS NOT NULL ORDER BY 1"
    ).fetchall()
    assert not_read == [
        ("county_decisions_150625.xls", "150625"),
        ("household_income_150625.csv", "150625"),
        ("students_150625.csv", "150625"),
        ("visit_resuls_150625.xlsx", "150625"),
    ]
    for feed in ("roster", "students"):
        ingest_feed(con, load_contract(feed), landing, day)
    assert con.execute("SELECT count(*) FROM students").fetchall()[0][0] == 0
    assert "不应被读取" not in str(
        con.execute("SELECT * FROM quarantine UNION ALL SELECT * FROM ingest_reports").fetchall()
    )


def test_an_unreadable_file_is_refused_with_a_message_not_a_traceback(small_landing, tmp_path):
    day = first_date(small_landing)
    folder = copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster", CLAIMS])
    locked = folder / f"{CLAIMS}_locked.csv"
    locked.write_bytes(next(folder.glob(f"{CLAIMS}*")).read_bytes())
    os.chmod(locked, 0)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    outcome = ingest_feed(con, load_contract(CLAIMS), tmp_path / "landing", day)
    assert outcome.prepared.rows_loaded > 0 and outcome.prepared.reconciles
    refused = outcome.prepared.quarantine.filter(pl.col("file") == locked.name).get_column("problem").to_list()
    if os.geteuid() != 0:  # root reads a file without permissions; the read error below stands in for it
        assert refused and "没有读取权限" in refused[0]
    disk_error = tmp_path / f"{CLAIMS}_io.csv"
    disk_error.symlink_to("/proc/self/mem")  # reading it fails with EIO, as a damaged disk or share would
    with pytest.raises(UnreadableFile, match="无法读取（磁盘读取错误）"):
        read_file(disk_error)


# ------------------------------------------------------------------------------------------- re-sent rows
def test_a_resent_increment_row_with_other_values_is_reported_with_old_and_new(small_landing, tmp_path):
    days = sorted(d for d in (p.name for p in small_landing.iterdir()) if list((small_landing / d).glob(f"{CLAIMS}*")))
    first, second = date.fromisoformat(days[0]), date.fromisoformat(days[1])
    landing = tmp_path / "landing"
    copy_delivery(small_landing, first, landing, feeds=["roster", CLAIMS])
    folder = copy_delivery(small_landing, second, landing, feeds=["roster"])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for feed in ("roster", CLAIMS):
        ingest_feed(con, load_contract(feed), landing, first)
    earlier = (
        con.sql(
            "SELECT * FROM medical_claims WHERE county_code IS NOT NULL AND total_cost > 100 "
            "AND settlement_type = '正常' LIMIT 1"
        )
        .pl()
        .row(0, named=True)
    )
    rows = read_text_rows(next((landing / first.isoformat()).glob(f"{CLAIMS}*")))
    header = rows[0]
    resent = next(r for r in rows[1:] if r[header.index("结算流水号")] == earlier["settlement_id"])
    resent[header.index("医疗总费用(元)")] = f"{earlier['total_cost'] + 100:.2f}"
    buffer = io.StringIO()
    pl.DataFrame([resent], schema=header, orient="row").write_csv(buffer)
    (folder / f"{CLAIMS}_resent.csv").write_text(buffer.getvalue(), encoding="utf-8")
    ingest_feed(con, load_contract("roster"), landing, second)
    applied = ingest_feed(con, load_contract(CLAIMS), landing, second).applied
    assert applied.replaced == 1
    report = con.execute(
        """SELECT "column", raw_value, problem, county_code FROM ingest_reports
                            WHERE feed = ? AND delivery_date = ? AND problem LIKE '替换了%'""",
        [CLAIMS, second],
    ).fetchall()
    assert len(report) == 1
    column, raw, problem, county = report[0]
    assert "医疗总费用(元)" in column and f"{earlier['total_cost']}" in raw and "→" in raw
    assert first.isoformat() in problem and county == earlier["county_code"]


def test_a_row_superseded_inside_a_delivery_is_reported_to_its_county(small_landing, tmp_path):
    day, path = _roster(small_landing, tmp_path)
    lines, encoding = _csv_lines(path)
    row = next(i for i, line in enumerate(lines[1:], start=1) if '"' not in line)
    changed = lines[row].split(",")
    changed[lines[0].split(",").index("户联系电话")] = "13800000000"
    lines.append(",".join(changed))  # the same person again, with another phone: the later row wins
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding.replace("-sig", "")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    prepared = ingest_feed(con, load_contract("roster"), tmp_path / "landing", day).prepared
    assert prepared.superseded >= 1 and prepared.reconciles
    placed = con.execute(
        """SELECT county_code FROM ingest_reports WHERE "row" = ? AND problem LIKE '%以后者为准%'""", [row + 1]
    ).fetchall()
    assert placed == [("150625",)]


def test_a_file_level_notice_goes_to_the_county_its_name_gives(small_landing, tmp_path):
    day = first_date(small_landing)
    folder = copy_delivery(small_landing, day, tmp_path / "landing", feeds=["roster"])
    (folder / f"{CLAIMS}_150625.csv").write_bytes(b"")
    prepared = prepare_delivery(
        load_contract(CLAIMS), find_feed_files(tmp_path / "landing", day, CLAIMS), day, frozenset({"150625"})
    )
    assert prepared.file_counties == {f"{CLAIMS}_150625.csv": "150625"}
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    ingest_feed(con, load_contract(CLAIMS), tmp_path / "landing", day)
    assert con.execute("SELECT county_code, problem FROM quarantine WHERE feed = ?", [CLAIMS]).fetchall() == [
        ("150625", f"文件 {CLAIMS}_150625.csv 是空文件")
    ]
