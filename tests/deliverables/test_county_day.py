"""The county team's day on one county's closed loop: the 回传模板 filled with openpyxl as a clerk fills them in Excel
and dropped unchanged into the next delivery move the cases they answer; the next workbook's 回传处理结果 is the
receipt; each village gets its printable task pack; the workbook prints on A4 landscape."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pytest
from deliverables_helpers import END, ID_RE
from pypdf import PdfReader
from workflow_helpers import closed_loop, run_pipeline_day

from fangfanpin import deliverables
from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables import write_county_outputs
from fangfanpin.deliverables.render_pool import RenderPool
from fangfanpin.deliverables.return_templates import FOLDER
from fangfanpin.deliverables.sheets.common import NO_HEAD_ZH
from fangfanpin.deliverables.task_packs import FOLDER as TASK_PACKS
from fangfanpin.generator import MessyRates, generate
from fangfanpin.ingest.read import delivery_dates

pytestmark = [pytest.mark.warehouse, pytest.mark.slow(seconds=28)]

NEXT = END + timedelta(days=1)
COUNTY = "150625"
LOOP = [END - timedelta(days=13 - i) for i in range(14)]  # long enough for a 公示 period to end


@pytest.fixture(scope="module")
def county_day(tmp_path_factory) -> tuple[Path, Path, Path]:
    """One county's closed loop up to END, the villages' publication answers of END held back, and the county's
    outputs of END: (warehouse, landing, the county's folder)."""
    root = tmp_path_factory.mktemp("templates")
    generate(
        root / "landing",
        root / "truth",
        counties=[COUNTY],
        households=200,
        start=date(2026, 8, 1),
        end=END,
        seed=5,
        messy=MessyRates(),
        daily_days=15,
    )
    warmup = [d for d in delivery_dates(root / "landing") if d < LOOP[0]][-1:]
    closed_loop(root / "wh.duckdb", root / "landing", root / "truth", LOOP[:-1], warmup=warmup)
    for late in (root / "landing" / END.isoformat()).glob("publication_results*"):
        late.unlink()  # the villages have not answered yet: the batches that ended are due in the template
    with duckdb.connect(str(root / "wh.duckdb")) as con:
        run_pipeline_day(con, root / "landing", END)
        write_county_outputs(con, END, root / "outbox", load_policy(), run_id="test")
    return root / "wh.duckdb", root / "landing", root / "outbox" / END.isoformat() / COUNTY


def _sheet_rows(path: Path) -> tuple[openpyxl.Workbook, list[str], list[list]]:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    return wb, [h.lstrip("*") for h in values[0]], values[1:]


def _fill(path: Path, answer) -> list[dict]:
    """Fill each pre-filled row with ``answer(row as a dict)`` (header → value; None leaves the row unanswered)."""
    wb, headers, rows = _sheet_rows(path)
    ws = wb.worksheets[0]
    answered = []
    for i, values in enumerate(rows, start=2):
        row = dict(zip(headers, values))
        if row.get("户编号") is None:
            continue
        filled = answer(row)
        if filled is None:
            continue
        for header, value in filled.items():
            ws.cell(row=i, column=headers.index(header) + 1, value=value)
        answered.append(row)
    wb.save(path)
    return answered


def test_every_template_is_written_with_what_is_due(county_day):
    _, _, folder = county_day
    names = sorted(p.name for p in (folder / FOLDER).iterdir())
    assert names == [f"{t}_{COUNTY}_{END:%Y%m%d}.xlsx" for t in ("县级决定", "民主评议及公示结果", "走访结果")]
    wb, headers, rows = _sheet_rows(folder / FOLDER / names[2])
    assert wb.sheetnames == ["走访结果", "填写说明"]
    ws = wb.worksheets[0]
    assert ws.protection.sheet and ws.freeze_panes == "A2"
    assert {"排查结论", "排查日期", "任务编号", "户主姓名"} <= set(headers)
    assert ws.cell(1, headers.index("排查结论") + 1).value == "*排查结论"  # required, marked
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation if v.type == "list"}
    conclusion = f"{openpyxl.utils.get_column_letter(headers.index('排查结论') + 1)}2"
    assert "建议纳入" in lists[conclusion] and "无法入户" in lists[conclusion]
    assert any(v.type == "date" for v in ws.data_validations.dataValidation)
    assert rows and all(r[headers.index("任务编号")] for r in rows if r[headers.index("户编号")])


def test_the_visit_template_lists_each_village_in_the_order_of_its_task_list(county_day):
    """A village that cannot answer every row answers the most likely households first, as on 排查任务."""
    _, _, folder = county_day
    _, headers, rows = _sheet_rows(folder / FOLDER / f"走访结果_{COUNTY}_{END:%Y%m%d}.xlsx")
    (workbook,) = folder.glob("*.xlsx")
    tasks = openpyxl.load_workbook(workbook, read_only=True)["排查任务"]
    listed = [list(r) for r in tasks.iter_rows(values_only=True)]
    task_id, rank = listed[0].index("任务编号"), listed[0].index("优先级（村内顺序）")
    in_sheet = [r[task_id] for r in listed[1:] if r[task_id]]
    in_template = [r[headers.index("任务编号")] for r in rows if r[headers.index("任务编号")]]
    assert in_template == in_sheet and any(r[rank] and r[rank] > 1 for r in listed[1:])


def test_filled_templates_move_the_cases_on_the_next_date(county_day, tmp_path):
    db, landing, folder = county_day
    work = tmp_path / "wh.duckdb"
    shutil.copy(db, work)
    drop = tmp_path / "landing" / NEXT.isoformat()
    drop.mkdir(parents=True)
    for name in ("走访结果", "民主评议及公示结果", "县级决定"):
        shutil.copy(folder / FOLDER / f"{name}_{COUNTY}_{END:%Y%m%d}.xlsx", drop)

    def visit(row):
        if row["任务类型"] != "排查":
            return None  # left unanswered: not a record
        return {
            "排查日期": END,
            "排查人": "王书记",
            "义务教育有保障": "是",
            "基本医疗有保障": "是",
            "住房安全有保障": "是",
            "饮水安全有保障": "是",
            "排查结论": "不建议纳入",
        }

    def publication(row):
        return {"民主评议结果": "同意", "是否有异议": "否"}

    def decision(row):
        kind = "确认纳入" if row["案件状态"] == "待确认" else "确认风险消除"
        return {
            "决定类型": kind,
            "监测对象类别": "边缘易致贫户" if kind == "确认纳入" else None,
            "决定日期": END,
            "决定单位": "杭锦旗乡村振兴局",
        }

    visits = _fill(drop / f"走访结果_{COUNTY}_{END:%Y%m%d}.xlsx", visit)
    published = _fill(drop / f"民主评议及公示结果_{COUNTY}_{END:%Y%m%d}.xlsx", publication)
    decided = _fill(drop / f"县级决定_{COUNTY}_{END:%Y%m%d}.xlsx", decision)
    assert visits and published and decided, (len(visits), len(published), len(decided))

    # beside the templates, a decision with a value not allowed and a visit file whose required header is misspelt
    # and a decision for a household with no case awaiting one, which the ledger cannot apply
    hid = decided[0]["户编号"]
    with duckdb.connect(str(work), read_only=True) as con:
        caseless = con.execute(
            "SELECT min(household_id) FROM roster WHERE household_id NOT IN (SELECT household_id FROM cases)"
        ).fetchall()[0][0]
    (drop / f"county_decisions_{COUNTY}_补报.csv").write_text(
        f"户编号,决定类型,决定日期,决定单位\n{hid},同意纳入,{END},杭锦旗乡村振兴局\n"
        f"{caseless},确认纳入,{END},杭锦旗乡村振兴局\n",
        encoding="utf-8",
    )
    (drop / f"visit_results_{COUNTY}_补报.csv").write_text(
        f"户编号,走访日期,排查人,义务教育有保障,基本医疗有保障,住房安全有保障,饮水安全有保障,排查结论\n"
        f"{hid},{END},李四,是,是,是,是,建议纳入\n",
        encoding="utf-8",
    )
    with duckdb.connect(str(work)) as con:
        run_pipeline_day(con, tmp_path / "landing", NEXT)
        got = {
            feed: con.execute(
                "SELECT rows_read, rows_loaded, quarantined, status FROM deliveries WHERE feed = ? AND delivery_date = ?",
                [feed, NEXT],
            ).fetchall()[0]
            for feed in ("visit_results", "publication_results", "county_decisions")
        }
        closed = {
            r[0]
            for r in con.execute("SELECT task_id FROM visit_task_closures WHERE processed_date = ?", [NEXT]).fetchall()
        }
        outcomes = con.execute("SELECT count(*) FROM publication_outcomes WHERE processed_date = ?", [NEXT]).fetchall()[
            0
        ][0]
        states = dict(con.execute("SELECT household_id, state FROM cases").fetchall())
        write_county_outputs(con, NEXT, tmp_path / "outbox", load_policy(), run_id="next")
        unanswered = con.execute(
            "SELECT count(*) FROM ingest_reports WHERE delivery_date = ? AND problem LIKE '%未填写结果%'", [NEXT]
        ).fetchall()[0][0]
    assert got["visit_results"] == (len(visits) + 1, len(visits), 1, "applied")  # the refused file: 1 row
    assert got["publication_results"] == (len(published), len(published), 0, "applied")
    assert got["county_decisions"] == (len(decided) + 2, len(decided) + 1, 1, "applied")
    assert {r["任务编号"] for r in visits} <= closed
    assert all(states[r["户编号"]] == "不予纳入" for r in visits)
    assert outcomes == len(published)
    assert all(states[r["户编号"]] in ("已纳入", "风险消除") for r in decided)
    left_blank = sum(1 for r in _sheet_rows(drop / f"走访结果_{COUNTY}_{END:%Y%m%d}.xlsx")[2] if r[0]) - len(visits)
    assert unanswered == (1 if left_blank else 0)  # rows left blank: one report for the file, no quarantine

    receipt = _receipt(tmp_path / "outbox" / NEXT.isoformat() / COUNTY)
    by_file = {}
    for row in receipt:
        by_file.setdefault(row["文件"], []).append(row)
    assert set(by_file) == {
        f"走访结果_{COUNTY}_{END:%Y%m%d}.xlsx",
        f"民主评议及公示结果_{COUNTY}_{END:%Y%m%d}.xlsx",
        f"县级决定_{COUNTY}_{END:%Y%m%d}.xlsx",
        f"county_decisions_{COUNTY}_补报.csv",
        f"visit_results_{COUNTY}_补报.csv",
    }
    good = by_file[f"县级决定_{COUNTY}_{END:%Y%m%d}.xlsx"]
    assert good[0]["处理结果"] == f"已处理 {len(decided)} 行" and len(good) == 1
    bad_value = by_file[f"county_decisions_{COUNTY}_补报.csv"]
    assert bad_value[0]["处理结果"] == "已处理 0 行"
    assert "收到 2 行，已处理 0 行，未处理 1 行，未载入 1 行" in bad_value[0]["说明"]
    not_applied = [r for r in bad_value if r["处理结果"] == "未处理"]
    assert [(r["行号"], r["户编号"]) for r in not_applied] == [(3, caseless)]
    not_loaded = [r for r in bad_value if r["处理结果"] == "未载入"]
    assert [r["行号"] for r in not_loaded] == [2]
    assert (
        "「决定类型」" in not_loaded[0]["说明"]
        and "确认纳入、不予纳入、确认风险消除、退回重新核实" in not_loaded[0]["说明"]
    )
    refused = by_file[f"visit_results_{COUNTY}_补报.csv"]
    assert refused == [
        {
            "文件": f"visit_results_{COUNTY}_补报.csv",
            "数据集": "走访排查结果",
            "行号": None,
            "户编号": None,
            "处理结果": "整个文件未载入",
            "说明": refused[0]["说明"],
        }
    ]
    assert "缺少必填列「排查日期」" in refused[0]["说明"] and "走访日期" in refused[0]["说明"]


def _receipt(folder: Path) -> list[dict]:
    book = next(folder.glob("*工作清单_*.xlsx"))
    ws = openpyxl.load_workbook(book, read_only=True)["回传处理结果"]
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r)) for r in values[1:]]


def test_each_village_with_open_tasks_gets_a_printable_task_pack(county_day):
    db, _, folder = county_day
    with duckdb.connect(str(db), read_only=True) as con:
        open_tasks = dict(
            con.execute(
                """SELECT t.village_code, count(*) FROM visit_tasks t
                   LEFT JOIN visit_task_closures x ON x.task_id = t.task_id AND x.processed_date <= ?
                   WHERE t.processed_date <= ? AND x.task_id IS NULL GROUP BY 1""",
                [END, END],
            ).fetchall()
        )
    packs = sorted((folder / TASK_PACKS).glob("*_排查任务.pdf"))
    assert {p.name.split("_")[0] for p in packs} == set(open_tasks)
    ordered = 0
    for pack in packs:
        reader = PdfReader(pack)
        text = "".join(page.extract_text() for page in reader.pages)
        assert text.count("户主姓名") == open_tasks[pack.name.split("_")[0]]
        assert "截止日期" in text and "个工作日" in text and "□建议纳入" in text and "排查人" in text
        assert not ID_RE.search(text), pack.name  # masked form only
        assert all(page.mediabox.width < page.mediabox.height for page in reader.pages)  # A4 portrait
        # the likeliest first: rule severity, then the model's probability, as the card of each task says
        keys = [
            (2 if sev == "高" else 1 if sev == "中" else 0, float(p or 0))
            for sev, p in re.findall(r"优先依据\s*(?:规则严重程度([高中]))?；?(?:模型概率 ([0-9.]+)%)?", text)
        ]
        assert len(keys) == text.count("户主姓名")
        assert keys == sorted(keys, reverse=True), (pack.name, keys)
        assert "按优先级排列" in text
        ordered += len(set(keys)) > 1
    assert ordered  # some village's order rests on more than one stated priority


def test_a_day_rendered_by_workers_writes_the_same_files(county_day, tmp_path, monkeypatch):
    """Every workbook (the 未归属 one too), task pack and return template handed to worker processes, one county
    ahead: the same files as the run that rendered everything in its own process (too few rows and cards for a
    worker; manifest.json aside: it names the run and its time)."""
    db, _, folder = county_day
    shutil.copy(db, tmp_path / "wh.duckdb")
    monkeypatch.setattr(deliverables, "MIN_ROWS", 0)
    monkeypatch.setattr(deliverables, "MIN_CARDS", 0)
    used: list[bool] = []

    class Recorded(RenderPool):
        def __exit__(self, *exc) -> None:
            used.append(self.started)
            super().__exit__(*exc)

    monkeypatch.setattr(deliverables, "RenderPool", Recorded)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        write_county_outputs(con, END, tmp_path / "outbox", load_policy(), run_id="workers", render_workers=2)
    assert used == [True]  # the files below came from the workers

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json"
        }

    alone = files(folder.parent)
    assert any(name.startswith("未归属/") for name in alone) and any(TASK_PACKS in name for name in alone)
    assert any(FOLDER in name for name in alone)
    assert files(tmp_path / "outbox" / END.isoformat()) == alone


def test_the_workbook_prints_on_a4_landscape_with_its_header_on_every_page(county_day):
    _, _, folder = county_day
    book = openpyxl.load_workbook(next(folder.glob("*工作清单_*.xlsx")))
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth in (None, 1), ws.title  # absent means 1 page wide (OOXML default)
        assert ws.page_setup.fitToHeight == 0 and ws.print_title_rows == "$1:$1", ws.title
    tasks = book["排查任务"]
    headers = [c.value for c in tasks[1]]
    assert tasks.freeze_panes == f"{openpyxl.utils.get_column_letter(headers.index('户主姓名') + 2)}2"
    long_text = [
        r for r in range(2, tasks.max_row + 1) if len(tasks.cell(r, headers.index("核实内容") + 1).value or "") > 40
    ]
    assert long_text and all(tasks.row_dimensions[r].height >= 30 for r in long_text)  # wrapped text has room


def test_a_task_whose_household_has_no_head_row_says_so(county_day, tmp_path):
    """A household with an open task whose 户主 row is missing from the roster in force (its row quarantined, as an
    ID number in Excel's scientific notation does): the 排查任务 sheet and the village's card say so, and point to
    the data-quality sheet, instead of leaving the head's cells blank."""
    db, _, _ = county_day
    shutil.copy(db, tmp_path / "wh.duckdb")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        (household, village) = con.execute(
            """SELECT min(t.household_id), arg_min(t.village_code, t.household_id) FROM visit_tasks t
               LEFT JOIN visit_task_closures x ON x.task_id = t.task_id AND x.processed_date <= ?
               WHERE t.processed_date <= ? AND x.task_id IS NULL""",
            [END, END],
        ).fetchall()[0]
        con.execute("DELETE FROM roster WHERE household_id = ? AND relation = '户主'", [household])
        con.execute(
            "UPDATE household_indicators SET head_name = NULL, head_id_number = NULL WHERE household_id = ?",
            [household],
        )
        write_county_outputs(con, END, tmp_path / "outbox", load_policy(), run_id="no-head")
    folder = tmp_path / "outbox" / END.isoformat() / COUNTY
    (workbook,) = folder.glob("*_防返贫监测工作清单_*.xlsx")
    tasks = openpyxl.load_workbook(workbook, read_only=True)["排查任务"]
    header, *rows = [list(r) for r in tasks.iter_rows(values_only=True)]
    header = [h.lstrip("*") for h in header]
    mine = [r for r in rows if r[header.index("户编号")] == household]
    assert mine and all(r[header.index("户主姓名")] == NO_HEAD_ZH for r in mine)
    assert all(r[header.index("户主姓名")] for r in rows)  # every other task still names its head
    (pack,) = (folder / TASK_PACKS).glob(f"{village}_*_排查任务.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pack).pages)
    assert "".join(NO_HEAD_ZH.split()) in "".join(text.split())
