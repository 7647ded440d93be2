"""Deliverables: the county workbook, candidates.csv, the village publication PDFs and manifest.json, read
back from disk. One small warehouse (two generated counties, a few days of the closed loop) is built once per session;
feed text is then poisoned with formula-looking values to prove they come out as text (tests/deliverables/conftest.py).
Longer than most files: its tests read the same outputs of the session-built warehouse, written once per session."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from deliverables_helpers import (
    COUNTIES,
    END,
    FORMULA_EXPLANATION,
    FORMULA_VILLAGE,
    ID_RE,
    PHONE_RE,
    workbook_path,
)
from docs_tables import sheet_columns
from paths import REPO

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables import CANDIDATE_COLUMNS, SHEETS, write_county_outputs
from fangfanpin.deliverables.xlsx import LEVEL_COLOURS

pytestmark = pytest.mark.dagster


def _county_households(warehouse: Path, day: date) -> dict[str, set[str]]:
    con = duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True)
    try:
        got: dict[str, set[str]] = {}
        for county, hh in con.execute(
            """SELECT county_code, household_id FROM household_indicators
                                         WHERE as_of_date = ? UNION SELECT county_code, household_id FROM case_openings
                                         WHERE processed_date <= ?""",
            [day, day],
        ).fetchall():
            got.setdefault(county, set()).add(hh)
        return got
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------------- masking
def test_a_raw_value_from_an_id_column_is_masked_whatever_its_shape(tmp_path):
    """The data-quality sheet shows the raw value of a problem; from an ID column it is an ID number even when it is
    not shaped like one (spaced, 15 digits, a date that does not exist, full-width)."""
    from fangfanpin.deliverables.sheets.quality import quality_data
    from fangfanpin.ingest.warehouse import ensure_schema

    raw = ["150625 19800101 1234", "150625800101123", "１５０６２５１９８０１３３２１２３４", "张三"]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_schema(con)
        con.executemany(
            "INSERT INTO quarantine VALUES (?, 'roster', '乡村振兴局', 'roster.csv', ?, ?, ?, '无效', '150625')",
            [[END, i + 2, "证件号码", v] for i, v in enumerate(raw[:3])] + [[END, 9, "姓名", raw[3]]],
        )
        shown = {r["row"]: r["raw_value"] for r in quality_data(con, END, "150625")}
    assert shown == {2: "150625********1234", 3: "150625********1123", 4: "１５０６２５********１２３４", 9: "张三"}


# -------------------------------------------------------------------------------------------------------- workbook
def test_every_county_folder_has_its_files(outputs):
    out, paths, _ = outputs
    for county in COUNTIES:
        folder = out / END.isoformat() / county
        assert workbook_path(out, END, county).name.endswith(f"_防返贫监测工作清单_{END:%Y%m%d}.xlsx")
        assert (folder / "candidates.csv").is_file() and (folder / "manifest.json").is_file()
    assert (out / END.isoformat() / "未归属" / "数据质量问题.xlsx").is_file()
    assert not list(out.rglob(".tmp-*"))


def test_workbook_sheets_headers_panes_filters_and_formats(outputs):
    import openpyxl

    out, _, notice_day = outputs
    wb = openpyxl.load_workbook(workbook_path(out, notice_day, COUNTIES[0]))
    assert wb.sheetnames == list(SHEETS)
    assert wb.properties.created == datetime(notice_day.year, notice_day.month, notice_day.day)
    for ws in wb.worksheets:
        headers = [c.value for c in ws[1]]
        name = headers.index("户主姓名") + 2 if "户主姓名" in headers else 1  # frozen up to the head's name
        assert ws.freeze_panes == f"{openpyxl.utils.get_column_letter(name)}2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert all(isinstance(h, str) and re.search(r"[\u4e00-\u9fff]", h) for h in headers), (ws.title, headers)
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width >= 8
    tasks = wb["排查任务"]
    headers = [c.value for c in tasks[1]]
    assert headers[:3] == ["任务编号", "任务类型", "乡镇"] and "联系电话" in headers and "截止日期" in headers
    assert tasks.max_row > 1
    due = tasks.cell(row=2, column=headers.index("截止日期") + 1)
    assert isinstance(due.value, datetime) and due.number_format == "yyyy-mm-dd"
    days_left = tasks.cell(row=2, column=headers.index("剩余天数（工作日）") + 1)
    assert isinstance(days_left.value, (int, float))
    # village by village in priority order: 优先级 counts 1, 2, ... and what it rests on never rises down the list
    listed = [dict(zip(headers, r)) for r in tasks.iter_rows(min_row=2, values_only=True)]
    for village in {r["村代码"] for r in listed}:
        mine = [r for r in listed if r["村代码"] == village]
        assert [r["优先级（村内顺序）"] for r in mine] == list(range(1, len(mine) + 1))
        keys = [_priority_key(r["优先依据"]) for r in mine]
        assert keys == sorted(keys, reverse=True), keys
    overview = {r[1]: r[2] for r in wb["工作概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["交付日期"] == datetime(notice_day.year, notice_day.month, notice_day.day)
    assert isinstance(overview[f"{notice_day.year} 年监测范围（元/人/年）"], (int, float))
    header, *rows = wb["说明"].iter_rows(values_only=True)
    notes = [dict(zip(header, r)) for r in rows]
    codes = {r["代码"] for r in notes}
    policy = load_policy()
    assert set(policy.rules) <= codes and set(policy.exclusion) <= codes
    assert any(r["含义"] == "模型版本" and r["阈值/取值"] for r in notes)
    assert any(
        r["含义"].endswith("监测范围（元/人/年）")
        and r["阈值/取值"] == f"{policy.monitoring_line(notice_day.year):,.0f}"
        for r in notes
    )
    # risk level is coloured
    alerts = wb["新增预警"]
    col = [c.value for c in alerts[1]].index("风险等级") + 1
    fills = {
        alerts.cell(row=r, column=col).value: alerts.cell(row=r, column=col).fill.fgColor.rgb
        for r in range(2, alerts.max_row + 1)
    }
    assert fills
    for level, colour in fills.items():  # every level shown has its own colour (高 red, 中 orange, 低 green)
        assert colour.endswith(LEVEL_COLOURS[level][0].lstrip("#")), (level, colour)


def test_formula_looking_feed_text_comes_out_as_text(outputs, warehouse):
    import openpyxl

    out, _, notice_day = outputs
    found_village = found_explanation = False
    for day in {END, notice_day}:
        for county in COUNTIES:
            wb = openpyxl.load_workbook(workbook_path(out, day, county))
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        if isinstance(c.value, str) and c.value[:1] in "=+-@" and len(c.value) > 1:
                            assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                        found_village |= c.value == FORMULA_VILLAGE
                        found_explanation |= c.value == FORMULA_EXPLANATION
    assert found_village and found_explanation


def _priority_key(text: str | None) -> tuple[int, float]:
    """(severity rank, model probability) back from the 优先依据 a county user reads."""
    text = text or ""
    rank = 2 if "规则严重程度高" in text else 1 if "规则严重程度中" in text else 0
    p = re.search(r"模型概率 ([0-9.]+)%", text)
    return rank, float(p.group(1)) if p else 0.0


def test_no_full_id_number_and_phones_only_in_visit_tasks(outputs):
    import openpyxl

    out, _, _ = outputs
    for book in out.rglob("*.xlsx"):
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    if isinstance(v, str):
                        assert not ID_RE.search(v), (book.name, ws.title, v)
                        if ws.title != "排查任务":
                            assert not PHONE_RE.search(v), (book.name, ws.title, v)
    for path in out.rglob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        assert not ID_RE.search(text) and not PHONE_RE.search(text)
    for path in out.rglob("manifest.json"):
        assert not ID_RE.search(path.read_text(encoding="utf-8"))


# -------------------------------------------------------------------------------------------------- candidates.csv
def test_candidates_csv_header_bom_and_rows(outputs, warehouse):
    out, _, _ = outputs
    for county in COUNTIES:
        raw = (out / END.isoformat() / county / "candidates.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert tuple(rows[0]) == CANDIDATE_COLUMNS
        body = [dict(zip(rows[0], r)) for r in rows[1:]]
        assert body, county
        for r in body:
            assert r["run_date"] == END.isoformat() and r["county_code"] == county
            assert re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", r["head_id_masked"]) or r["head_id_masked"] in ("", "****")
            assert r["risk_level"] in ("高", "中", "低") and r["overdue"] in ("是", "否")
            assert r["risk_score"] == "" or re.fullmatch(r"[01]\.\d{4}", r["risk_score"])
            assert set(filter(None, r["sources"].split(";"))) <= {"部门预警", "模型预警", "农户申请", "干部排查"}
            assert r["case_status"]
    con = duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True)
    try:
        open_cases = {
            r[0]
            for r in con.execute(
                """SELECT household_id FROM case_status_daily WHERE as_of_date = ?
            AND case_status IN ('待排查', '待比对', '比对异常', '待公示', '公示中', '待确认')""",
                [END],
            ).fetchall()
        }
        fired = {
            r[0]
            for r in con.execute(
                """SELECT household_id FROM household_scores WHERE as_of_date = ?
            AND ((rule_codes <> '' AND rule_codes <> 'MODEL') OR model_warning)""",
                [END],
            ).fetchall()
        }
        order = {
            r[0]: (r[1] or "", r[2] or "")
            for r in con.execute(
                """
            SELECT household_id, township, village_code FROM case_status_daily WHERE as_of_date = $d
            UNION ALL BY NAME SELECT household_id, township, village_code FROM household_scores WHERE as_of_date = $d
            """,
                {"d": END},
            ).fetchall()
        }
    finally:
        con.close()
    listed = []
    for county in COUNTIES:
        with (out / END.isoformat() / county / "candidates.csv").open(encoding="utf-8-sig") as fh:
            body = list(csv.DictReader(fh))
        ids = [r["household_id"] for r in body]
        assert ids == sorted(ids, key=lambda h: (*order[h], h))
        listed += ids
    assert len(listed) == len(set(listed))
    assert set(listed) == open_cases | fired


# ----------------------------------------------------------------------------------------------------------- PDFs
NOTICE_TITLES = {
    "拟纳入名单公示": "防止返贫监测对象拟纳入名单公示",
    "纳入名单补充公示": "防止返贫监测对象纳入名单补充公示",
    "拟消除风险名单公示": "防止返贫监测对象拟消除风险名单公示",
}


def test_publication_pdf_text(outputs, warehouse):
    """Each notice names the village as villagers do, its committee signs it, and every household on it shows its
    村民小组 from the roster ("—" only where the roster has none)."""
    from pypdf import PdfReader

    from fangfanpin.deliverables.places import village_committee, village_place

    out, _, notice_day = outputs
    pdfs = sorted(out.joinpath(notice_day.isoformat()).rglob("公示/*.pdf"))
    assert pdfs
    con = duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True)
    try:
        for pdf in pdfs:
            village_code, tag = pdf.stem.split("_")[0], pdf.stem.rsplit("_", 1)[1]
            reader = PdfReader(pdf)
            text = "".join(p.extract_text() for p in reader.pages)
            compact = re.sub(r"\s+", "", text)
            members = con.execute(
                """SELECT r.name, r.village_group FROM publication_batches b JOIN publication_members m USING (batch_id)
                   JOIN roster_asof(?::DATE) r ON r.household_id = m.household_id AND r.relation = '户主'
                   WHERE b.processed_date = ? AND b.village_code = ?""",
                [notice_day, notice_day, village_code],
            ).fetchall()
            village = con.execute(
                "SELECT min(village_name) FROM household_indicators WHERE as_of_date = ? AND village_code = ?",
                [notice_day, village_code],
            ).fetchall()[0][0]
            title = re.sub(r"\s+", "", village_place(village) + NOTICE_TITLES[tag])
            assert compact.startswith(title) and "委会防止返贫" not in compact  # the village, not its committee
            assert re.sub(r"\s+", "", village_committee(village)) in compact  # the committee signs
            assert members and all(name in compact for name, _ in members)
            groups = [g for _, g in members if g]
            assert groups and all(g in compact for g in groups)
            assert compact.count("—") == len(members) - len(groups)
            assert "12317" in compact and "公示期" in compact and "GS-" in compact
            assert not ID_RE.search(compact) and not PHONE_RE.search(compact)
            assert "元" not in text and not re.search(r"\d,\d{3}", text)
            assert reader.metadata.creation_date.date() == notice_day
    finally:
        con.close()


def test_missing_font_fails_with_the_package_name(monkeypatch):
    from fangfanpin.core import fonts

    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.delenv("FFP_CJK_FONT", raising=False)
    with pytest.raises(fonts.FontMissing, match="fonts-wqy-microhei"):
        fonts.find_font()


# ------------------------------------------------------------------------------------ counties, manifest, re-runs
def test_each_county_folder_holds_only_its_households(outputs, warehouse):
    import openpyxl

    out, _, notice_day = outputs
    for day in {END, notice_day}:
        households = _county_households(warehouse, day)
        for county in COUNTIES:
            own = households[county]
            others = set().union(*(v for k, v in households.items() if k != county))
            with (out / day.isoformat() / county / "candidates.csv").open(encoding="utf-8-sig") as fh:
                assert {r["household_id"] for r in csv.DictReader(fh)} <= own
            wb = openpyxl.load_workbook(workbook_path(out, day, county))
            seen = set()
            for ws in wb.worksheets:
                headers = [c.value for c in ws[1]]
                if "户编号" in headers:
                    i = headers.index("户编号")
                    seen |= {r[i] for r in ws.iter_rows(min_row=2, values_only=True) if r[i]}
            assert seen and not (seen & others) and seen <= own
            # no 户编号 (15 digits) or 村代码 (12 digits) of another county in any cell, file name or notice
            other = next(c for c in COUNTIES if c != county)
            foreign = re.compile(rf"(?<!\d){other}(\d{{9}}|\d{{6}})(?!\d)")
            cells = " ".join(
                str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
            )
            assert not foreign.search(cells)
            with (out / day.isoformat() / county / "candidates.csv").open(encoding="utf-8-sig") as fh:
                assert all(r["village_code"].startswith(county) for r in csv.DictReader(fh))
            for pdf in (out / day.isoformat() / county).glob("公示/*.pdf"):
                from pypdf import PdfReader

                assert pdf.name.startswith(county)
                assert not foreign.search(" ".join(p.extract_text() or "" for p in PdfReader(str(pdf)).pages))


def test_manifest_lists_every_file_with_hashes_and_freshness(outputs):
    import hashlib

    out, _, _ = outputs
    for county in COUNTIES:
        folder = out / END.isoformat() / county
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["run_id"] == "run-1" and manifest["county_code"] == county
        listed = {f["path"] for f in manifest["files"]}
        on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
        assert listed == on_disk
        for f in manifest["files"]:
            assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
            assert isinstance(f["rows"], int)
        book = next(f for f in manifest["files"] if f["path"].endswith(f"工作清单_{END:%Y%m%d}.xlsx"))
        assert list(book["sheets"]) == list(SHEETS)
        feeds = {f["feed"]: f for f in manifest["feed_freshness"]}
        assert feeds["roster"]["last_applied_delivery"] and feeds["roster"]["age_days"] >= 0


def test_rerun_gives_identical_bytes_and_removes_stale_files(outputs, warehouse):
    out, _, notice_day = outputs
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    stale = out / notice_day.isoformat() / COUNTIES[0] / "公示" / "999999999999_旧村_公示名单.pdf"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old")
    con = duckdb.connect(str(warehouse / "wh.duckdb"), read_only=True)
    try:
        for day in sorted({END, notice_day}):
            write_county_outputs(con, day, out, load_policy(), run_id="run-2")
    finally:
        con.close()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert not stale.exists()
    assert set(after) == set(before)
    for p, data in before.items():
        if p.name == "manifest.json":
            a, b = json.loads(data), json.loads(after[p])
            assert b["run_id"] == "run-2"
            for doc in (a, b):
                doc.pop("run_id"), doc.pop("generated_at")
            assert a == b
        else:
            assert after[p] == data, p


# ---------------------------------------------------------------------------------------------------------- Dagster
def test_county_outbox_asset_materializes(warehouse, ffp_env):
    from dagster import AssetKey
    from dagster_helpers import materialize_day

    from fangfanpin.assets.deliverables import county_outbox
    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.pipeline.definitions import defs
    from fangfanpin.pipeline.jobs import daily_job

    shutil.copy(warehouse / "wh.duckdb", ffp_env / "warehouse.duckdb")
    result = materialize_day(
        [county_outbox],
        partition_key=END.isoformat(),
        resources=pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb")),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["dagster/row_count"].value > 0
    assert [c.name for c in metadata["dagster/column_schema"].schema.columns] == list(CANDIDATE_COLUMNS)
    table = metadata["files_by_county"].value
    assert "candidates.csv" in table and "未归属" in table
    assert not ID_RE.search(json.dumps({k: str(v.value) for k, v in metadata.items()}, ensure_ascii=False))
    assert (ffp_env / "outbox" / END.isoformat() / COUNTIES[0] / "candidates.csv").is_file()
    graph = defs.resolve_asset_graph()
    key = AssetKey(["deliverables", "county_outbox"])
    assert AssetKey(["workflow", "case_ledger"]) in graph.get(key).parent_keys
    assert key in defs.resolve_job_def(daily_job.name).asset_layer.selected_asset_keys


def test_writer_keeps_every_formula_prefix_as_text_and_wraps_long_text(tmp_path):
    """Feed text starting with =, +, - or @ must come back from the file as the same text, never as a formula."""
    import openpyxl

    from fangfanpin.deliverables.xlsx import Col, Writer

    values = ["=1+1", "+86 1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","点我")', "=cmd|' /C calc'!A0"]
    cols = [Col("说明", "text", width=30), Col("代码", "code", "code"), Col("备注", "note")]
    data = [{"text": v, "code": v, "note": v} for v in values]
    writer = Writer(date(2026, 11, 20))
    writer.sheet("测试", cols, data)
    path = tmp_path / "t.xlsx"
    path.write_bytes(writer.close())
    ws = openpyxl.load_workbook(path)["测试"]
    for r, v in enumerate(values, start=2):
        for c in range(1, 4):
            cell = ws.cell(r, c)
            assert cell.data_type == "s" and cell.value == v, (cell.coordinate, cell.value)
    assert ws.cell(2, 1).alignment.wrap_text and not ws.cell(2, 3).alignment.wrap_text


def test_villages_are_named_as_villagers_say_them_and_their_committees_sign():
    """The divisions file's names (config/divisions/villages.csv) as places and as the committees that sign."""
    from fangfanpin.deliverables.places import village_committee, village_place

    named = {
        "五苗树村委会": ("五苗树村", "五苗树村村民委员会"),
        "北元村村委会": ("北元村", "北元村村民委员会"),
        "新建村民委员会": ("新建村", "新建村村民委员会"),
        "乌日根嘎查村": ("乌日根嘎查", "乌日根嘎查村民委员会"),
        "乌日根嘎查村村民委员会": ("乌日根嘎查", "乌日根嘎查村民委员会"),
        "永联嘎查": ("永联嘎查", "永联嘎查村民委员会"),
        "官渠巷社区居委会": ("官渠巷社区", "官渠巷社区居民委员会"),
        "呼和马场第一生产连队居民委员会": ("呼和马场第一生产连队", "呼和马场第一生产连队居民委员会"),
        "西村村民委会": ("西村", "西村村民委员会"),
        "村委会": ("村委会", "村委会"),
    }
    assert {name: (village_place(name), village_committee(name)) for name in named} == named
    with (REPO / "config" / "divisions" / "villages.csv").open(encoding="utf-8") as fh:
        villages = [r["village_name"] for r in csv.DictReader(fh)]
    assert "乌日根嘎查村" in villages and "五苗树村委会" in villages
    places = [village_place(v) for v in villages]
    assert not [p for p in places if re.search("(委员会|村委会|居委会|嘎查村)$", p)]


def test_outputs_doc_lists_every_column_of_every_sheet(outputs):
    """docs/outputs.md's column list of each sheet is the written workbook's header row (the 未归属 workbook's too)."""
    import openpyxl

    documented = sheet_columns((REPO / "docs" / "outputs.md").read_text("utf-8"))
    out, _, notice_day = outputs
    unplaced = out / notice_day.isoformat() / "未归属" / "数据质量问题.xlsx"
    for path, expected in (
        (workbook_path(out, notice_day, COUNTIES[0]), documented),
        (unplaced, {"数据质量问题": None}),
    ):
        wb = openpyxl.load_workbook(path, read_only=True)
        headers = {ws.title: [c.value for c in next(ws.iter_rows(max_row=1))] for ws in wb.worksheets}
        wb.close()
        assert headers == {sheet: documented[sheet] for sheet in expected}, path.name
