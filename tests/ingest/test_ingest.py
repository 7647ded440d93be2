"""Ingest, called directly (no Dagster): encodings, contracts, quarantine, reconciliation, snapshots, increments."""

from __future__ import annotations

import shutil
import threading
from datetime import date

import duckdb
import polars as pl
import pytest
from landing_helpers import copy_delivery, first_date, read_text_rows, write_csv, write_xlsx

from fangfanpin.data_contracts import FEED_NAMES, load_contract
from fangfanpin.ingest import ingest_feed, prepare
from fangfanpin.ingest.normalize import normalize_column
from fangfanpin.ingest.prepare import FILE, prepare_delivery
from fangfanpin.ingest.read import delivery_dates, find_feed_files
from fangfanpin.ingest.warehouse import reports_left_unplaced

pytestmark = pytest.mark.warehouse


def test_every_feed_of_a_delivery_loads_and_reconciles(small_landing, tmp_path):
    day = first_date(small_landing)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for feed in ["roster"] + [f for f in FEED_NAMES if f != "roster"]:
        outcome = ingest_feed(con, load_contract(feed), small_landing, day)
        p = outcome.prepared
        assert p.reconciles, feed
        assert p.rows_read == p.rows_loaded + p.duplicates + p.superseded + p.quarantined_rows
        if feed in ("roster", "household_income", "students", "medical_enrollment", "civil_assistance"):
            assert outcome.applied.rows_stored > 0, feed
    stored = con.execute("SELECT sum(rows_loaded), sum(rows_read) FROM deliveries").fetchall()[0]
    assert stored[0] > 0 and stored[1] >= stored[0]


def test_heavy_messy_values_are_normalised_or_quarantined(small_landing, tmp_path):
    day = first_date(small_landing)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), small_landing, day)
    quarantine = con.sql('SELECT feed, file, "row", "column", problem FROM quarantine').pl()
    reports = con.sql("SELECT problem FROM ingest_reports").pl()
    problems = set(quarantine.get_column("problem"))
    assert any("科学计数法" in p for p in problems), problems
    assert all(r["file"] and r["column"] and r["row"] for r in quarantine.iter_rows(named=True))
    notes = set(reports.get_column("problem"))
    assert any("15位" in n for n in notes), "15-digit numbers should be converted and reported"
    # a correction made to a loaded row is reported to the county the row was placed in (its workbook), not 未归属
    converted = con.sql(
        """SELECT r.county_code, s.county_code AS row_county FROM ingest_reports r
           JOIN roster_delivery(?::DATE) s ON s._file = r.file AND s._row = r."row"
           WHERE r.problem LIKE '15位%'""",
        params=[day],
    ).pl()
    assert converted.height > 0 and converted["county_code"].to_list() == converted["row_county"].to_list()
    assert converted["county_code"].null_count() == 0
    # the ingest check reports_placed counts a report left without its row's county, as when an update is lost
    roster = load_contract("roster")
    assert reports_left_unplaced(con, roster, day) == 0
    con.execute("UPDATE ingest_reports SET county_code = NULL WHERE problem LIKE '15位%'")
    assert reports_left_unplaced(con, roster, day) == converted.height
    unplaced = con.sql("SELECT count(*) FROM ingest_reports WHERE problem LIKE '无法归属%' AND county_code IS NOT NULL")
    assert unplaced.fetchall()[0][0] == 0
    # a row quarantined for its ID (Excel's scientific notation) still names its village: the county sees it; a row
    # whose village code itself is unusable cannot be placed and stays on the 未归属 list
    by_column = dict(
        con.sql("""SELECT "column", count(*) FILTER (WHERE county_code IS NOT NULL) / count(*)
                                FROM quarantine GROUP BY 1""").fetchall()
    )
    assert by_column["证件号码"] > 0.9, by_column
    placed = con.sql("SELECT DISTINCT county_code FROM quarantine WHERE county_code IS NOT NULL").fetchall()
    assert {c for (c,) in placed} <= {c for (c,) in con.sql("SELECT DISTINCT county_code FROM roster").fetchall()}
    ids = con.sql("SELECT id_number FROM roster").pl().get_column("id_number")
    assert ids.str.contains(r"^[0-9]{17}[0-9X]$").all()


def test_gbk_utf8_bom_and_xlsx_copies_load_identical_rows(small_landing, tmp_path):
    day = first_date(small_landing)
    source = find_feed_files(small_landing, day, "roster")[0]
    rows = read_text_rows(source)
    results = {}
    for label, writer in {
        "gbk": lambda p: write_csv(rows, p.with_suffix(".csv"), "gb18030"),
        "bom": lambda p: write_csv(rows, p.with_suffix(".csv"), "utf-8-sig"),
        "xlsx": lambda p: write_xlsx(rows, p.with_suffix(".xlsx")),
    }.items():
        folder = tmp_path / label / day.isoformat()
        folder.mkdir(parents=True)
        writer(folder / "roster_copy")
        prepared = prepare_delivery(load_contract("roster"), find_feed_files(tmp_path / label, day, "roster"), day)
        results[label] = prepared.rows.drop(FILE).sort("id_number")
    assert results["gbk"].height > 0
    assert results["gbk"].equals(results["bom"])
    assert results["gbk"].equals(results["xlsx"])


def test_missing_required_column_fails_that_file_only(small_landing, tmp_path):
    day = first_date(small_landing)
    rows = read_text_rows(find_feed_files(small_landing, day, "roster")[0])
    id_col = rows[0].index("证件号码")
    broken = [[v for i, v in enumerate(r) if i != id_col] for r in rows]
    folder = tmp_path / day.isoformat()
    folder.mkdir()
    write_csv(rows[:1] + rows[1:20], folder / "roster_a.csv", "utf-8")
    write_csv(broken[:1] + broken[20:40], folder / "roster_b.csv", "gb18030")
    prepared = prepare_delivery(load_contract("roster"), find_feed_files(tmp_path, day, "roster"), day)
    assert [f.rejected for f in prepared.files] == [False, True]
    rejected = prepared.quarantine.filter(pl.col("file") == "roster_b.csv")
    assert rejected.height == 20
    assert rejected.get_column("column").unique().to_list() == ["证件号码"]
    assert "缺少必填列「证件号码」" in rejected.get_column("problem")[0]
    assert prepared.reconciles and prepared.rows_read == 39


def test_headers_marked_required_load_like_plain_ones(small_landing, tmp_path):
    """Forms mark required columns (*证件号码, 姓名（必填）, 【必填】): the same rows load, with no report."""
    day = first_date(small_landing)
    rows = read_text_rows(find_feed_files(small_landing, day, "roster")[0])
    marks = ("*{}", "{}（必填）", "＊ {} ", "【必填】{}", "{}(选填)")
    marked = [[marks[i % len(marks)].format(h) for i, h in enumerate(rows[0])]] + rows[1:40]
    for label, header_rows in (("plain", rows[:40]), ("marked", marked)):
        (tmp_path / label / day.isoformat()).mkdir(parents=True)
        write_csv(header_rows, tmp_path / label / day.isoformat() / "roster_a.csv", "utf-8")
    plain, marked_result = (
        prepare_delivery(load_contract("roster"), find_feed_files(tmp_path / label, day, "roster"), day)
        for label in ("plain", "marked")
    )
    assert marked_result.rows.height == plain.rows.height > 30
    assert marked_result.rows.drop(FILE).equals(plain.rows.drop(FILE))
    assert marked_result.reports.height == plain.reports.height


def test_a_rejected_file_does_not_say_its_unknown_columns_do_not_matter(small_landing, tmp_path):
    day = first_date(small_landing)
    rows = read_text_rows(find_feed_files(small_landing, day, "roster")[0])
    id_col = rows[0].index("证件号码")
    misspelt = [[("身份证号码" if i == id_col else h) for i, h in enumerate(rows[0])]] + rows[1:10]
    (tmp_path / day.isoformat()).mkdir()
    write_csv(misspelt, tmp_path / day.isoformat() / "roster_a.csv", "utf-8")
    prepared = prepare_delivery(load_contract("roster"), find_feed_files(tmp_path, day, "roster"), day)
    problems = (
        prepared.quarantine.get_column("problem").unique().to_list() + prepared.reports.get_column("problem").to_list()
    )
    assert all("不影响载入" not in p for p in problems), problems
    assert problems[0] == "文件缺少必填列「证件号码」，整个文件未载入；文件中有未识别的列「身份证号码」，请核对表头"


def test_unknown_column_is_reported_not_fatal(small_landing, tmp_path):
    day = first_date(small_landing)
    rows = read_text_rows(find_feed_files(small_landing, day, "roster")[0])
    extended = [rows[0] + ["备注说明"]] + [r + ["某些备注"] for r in rows[1:]]
    folder = tmp_path / day.isoformat()
    folder.mkdir()
    write_csv(extended, folder / "roster.csv", "utf-8")
    prepared = prepare_delivery(load_contract("roster"), find_feed_files(tmp_path, day, "roster"), day)
    assert prepared.rows_loaded > 0
    assert prepared.reports.filter(pl.col("problem").str.contains("未知列「备注说明」")).height == 1
    assert prepared.rows.get_column("_extra").str.contains("某些备注").all()


def _table_fingerprint(con, table: str) -> list:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_rerunning_a_date_changes_nothing(small_landing, tmp_path):
    day = first_date(small_landing)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    feeds = ["roster", "medical_claims", "civil_assistance"]
    for feed in feeds:
        ingest_feed(con, load_contract(feed), small_landing, day)
    before = {
        t: _table_fingerprint(con, t)
        for t in feeds + ["quarantine", "ingest_reports", "deliveries", "snapshot_versions"]
    }
    for feed in feeds:
        ingest_feed(con, load_contract(feed), small_landing, day)
    after = {t: _table_fingerprint(con, t) for t in before}
    assert before == after


def test_resent_and_late_increments_are_deduplicated(small_landing, tmp_path):
    days = delivery_dates(small_landing)
    first, later = days[0], days[1]
    landing = tmp_path / "landing"
    copy_delivery(small_landing, first, landing, ["roster", "medical_claims"])
    copy_delivery(small_landing, later, landing, ["roster", "medical_claims"])
    resent = find_feed_files(landing, first, "medical_claims")
    for path in resent:  # the department sends the earlier file again with the next delivery
        shutil.copy(path, landing / later.isoformat() / ("medical_claims_resent" + path.suffix))
    # and one settlement of the first period that it forgot, under a new number: a late event
    rows = read_text_rows(resent[0])
    sid = rows[0].index("结算流水号")
    late_row = next(list(r) for r in rows[1:] if r[rows[0].index("结算类型")] == "正常")
    late_row[sid] = "LATE-0001"
    write_csv([rows[0], late_row], landing / later.isoformat() / "medical_claims_late.csv", "utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in (first, later):
        ingest_feed(con, load_contract("roster"), landing, day)
        outcome = ingest_feed(con, load_contract("medical_claims"), landing, day)
    first_rows = con.execute("SELECT count(*) FROM medical_claims WHERE _delivery_date = ?", [first]).fetchall()[0][0]
    assert outcome.applied.resent == first_rows  # the re-sent copies, not the late row
    keys = con.execute(
        "SELECT count(*), count(DISTINCT settlement_id) FROM medical_claims_asof(?::DATE)", [later]
    ).fetchall()[0]
    assert keys[0] == keys[1]
    late = con.execute(
        "SELECT _delivery_date, settlement_date FROM medical_claims_asof(?::DATE) WHERE settlement_id = 'LATE-0001'",
        [later],
    ).fetchall()
    assert len(late) == 1 and late[0][0] == later and late[0][1] <= first  # loaded, dated before its delivery


def test_shrunken_snapshot_is_held_until_accepted(small_landing, tmp_path):
    from fangfanpin.ingest.warehouse import accept_delivery

    days = delivery_dates(small_landing)
    first, later = days[0], days[1]
    landing = tmp_path / "landing"
    copy_delivery(small_landing, first, landing, ["roster"])
    rows = read_text_rows(find_feed_files(small_landing, later, "roster")[0])
    folder = landing / later.isoformat()
    folder.mkdir(parents=True)
    write_csv(rows[: len(rows) // 3], folder / "roster.csv", "utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), landing, first)
    outcome = ingest_feed(con, load_contract("roster"), landing, later)
    assert outcome.applied.status == "held"
    assert "骤减" in outcome.applied.message
    current = con.execute("SELECT DISTINCT _delivery_date FROM roster_asof(?::DATE)", [later]).fetchall()
    assert current == [(first,)]
    assert accept_delivery(con, "roster", later) == 1
    assert con.execute("SELECT DISTINCT _delivery_date FROM roster_asof(?::DATE)", [later]).fetchall() == [(later,)]
    # an accepted delivery stays accepted when its date is re-run
    assert ingest_feed(con, load_contract("roster"), landing, later).applied.status == "applied"


def test_a_day_without_delivery_keeps_the_snapshot_and_reports_its_age(small_landing, tmp_path):
    days = delivery_dates(small_landing)
    landing = tmp_path / "landing"
    copy_delivery(small_landing, days[0], landing, ["roster"])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), landing, days[0])
    quiet_day = date.fromordinal(days[0].toordinal() + 3)
    outcome = ingest_feed(con, load_contract("roster"), landing, quiet_day)
    assert outcome.applied.status == "no_delivery"
    assert "已 3 天" in outcome.applied.message
    assert con.execute("SELECT count(*) FROM roster_asof(?::DATE)", [quiet_day]).fetchall()[0][0] > 0


def test_a_quarantined_row_is_placed_in_its_county_when_its_village_says_which(small_landing, tmp_path):
    day = first_date(small_landing)
    rows = read_text_rows(find_feed_files(small_landing, day, "roster")[0])
    header = rows[0]
    id_col, village_col = header.index("证件号码"), header.index("行政区划代码")
    rows[1][id_col] = "1.50625E+17"  # Excel mangled the ID: quarantined, but the village is known
    rows[2][village_col] = "15062510"  # a village code cut short: quarantined, and no county to give it to
    county = rows[1][village_col][:6]
    (tmp_path / "landing" / day.isoformat()).mkdir(parents=True)
    write_csv(rows, tmp_path / "landing" / day.isoformat() / "roster_mixed.csv", "utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_feed(con, load_contract("roster"), tmp_path / "landing", day)
    placed = dict(con.execute('SELECT "row", county_code FROM quarantine WHERE "row" IN (2, 3)').fetchall())
    assert placed == {2: county, 3: None}


def test_every_contract_places_rows_by_columns_it_has():
    for feed in FEED_NAMES:
        contract = load_contract(feed)
        assert contract.placement_columns and set(contract.placement_columns) <= set(contract.names), feed
    assert load_contract("econ_check").placement_columns == ["id_number"]
    assert load_contract("applications").placement_columns == ["village_code", "head_id_number"]


def test_a_warehouse_made_before_a_contract_column_gets_it_and_loads_it(small_landing, tmp_path):
    """A county's warehouse from before the roster had 村民小组: opening it adds the column, and rows load by name."""
    from fangfanpin.schema import ensure_schema

    day = first_date(small_landing)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    con.execute("ALTER TABLE roster DROP COLUMN village_group")
    con.execute("ALTER TABLE roster ADD COLUMN legacy_note VARCHAR")  # and one the contract no longer has
    con.execute("DELETE FROM ffp_schema")
    ensure_schema(con)
    ingest_feed(con, load_contract("roster"), small_landing, day)
    loaded, grouped, heads = con.execute(
        "SELECT count(*), count(village_group), count(*) FILTER (WHERE relation = '户主') FROM roster"
    ).fetchall()[0]
    con.close()
    assert loaded > 0 and grouped > 0 and heads > 0


@pytest.mark.parametrize("feed", ["roster", "medical_enrollment", "household_income"])
def test_keys_whose_hashes_all_collide_prepare_the_same_delivery(small_landing, monkeypatch, feed):
    """Rows sharing a key are found by a hash of the key; a row whose hash alone collides goes the way of a shared
    key, where the keys themselves are compared. With every hash equal, every row goes that way: the rows kept,
    the counts and the reports must be those of the usual path (single and compound keys, the heavy messy landing's
    repeated and conflicting rows). It fails if the exact path trusted the hash."""
    day = first_date(small_landing)
    contract = load_contract(feed)
    files = find_feed_files(small_landing, day, feed)
    usual = prepare_delivery(contract, files, day)
    monkeypatch.setattr(pl.Expr, "hash", lambda self, *args, **kwargs: pl.repeat(7, pl.len(), dtype=pl.UInt64))
    collided = prepare_delivery(contract, files, day)
    order = [FILE, "_row"]
    assert usual.duplicates + usual.superseded > 0  # the landing repeats rows: both paths have work
    assert collided.rows.sort(order).equals(usual.rows.sort(order))
    assert (collided.duplicates, collided.superseded, collided.quarantined_rows) == (
        usual.duplicates,
        usual.superseded,
        usual.quarantined_rows,
    )
    assert collided.reports.sort(["file", "row", "problem"]).equals(usual.reports.sort(["file", "row", "problem"]))


@pytest.mark.parametrize("feed", ["roster", "medical_enrollment", "household_income"])
def test_columns_normalised_side_by_side_prepare_the_same_delivery(small_landing, monkeypatch, feed):
    """A long file's columns are normalised in threads. Rows, their column order, quarantine and reports (in their
    order) must be those of one column after another, on the heavy messy landing. It fails if a column's result
    were taken out of the contract's order, or if the threads did not run."""
    day = first_date(small_landing)
    contract = load_contract(feed)
    files = find_feed_files(small_landing, day, feed)
    monkeypatch.setattr(prepare, "PARALLEL_ROWS", 10**9)
    serial = prepare_delivery(contract, files, day)
    threads: set[int] = set()

    def recording(*args, **kwargs):
        threads.add(threading.get_ident())
        return normalize_column(*args, **kwargs)

    monkeypatch.setattr(prepare, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(prepare, "normalize_column", recording)
    monkeypatch.setattr(prepare, "available_cores", lambda: 3)
    side_by_side = prepare_delivery(contract, files, day)
    assert len(threads) > 1
    assert serial.quarantine.height > 0 and serial.reports.height > 0  # the landing has problems to report
    assert side_by_side.rows.equals(serial.rows)
    assert side_by_side.quarantine.equals(serial.quarantine)
    assert side_by_side.reports.equals(serial.reports)
    assert side_by_side.quarantined_rows == serial.quarantined_rows
