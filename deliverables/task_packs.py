"""Village task packs (排查任务): one printable A4 PDF per village with open visit tasks, for the village team.

Each task is a card: who to visit (head of household, 户编号, the masked ID number, phone), what to verify, the due
date and the working days left, then blank fields to write the result by hand (visit date, visitor, the three
guarantees and drinking water, the conclusion, notes), in the order of the 走访结果 return template so that copying
the card into the template is line by line. Cards are sorted by priority (deliverables.data.OPEN_TASKS: rule severity,
then the model's probability; the card's number is its place): a team that cannot visit everyone visits the likeliest
households first. No ID number beyond its masked form and no illness beyond the risk type appear: the card's
text comes from the task's 核实内容, which names risk types and indicators, never diagnoses.

task_pack_pdf imports the card (deliverables/task_card.py) inside the function: that module imports reportlab, a slow
import that only writing a PDF needs (deliverables/pdf.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import groupby
from xml.sax.saxutils import escape

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.core.privacy import mask_id, mask_phone, mask_text
from fangfanpin.data_contracts import load_contract
from fangfanpin.deliverables.data import OPEN_TASKS, rows
from fangfanpin.deliverables.pdf import build_pdf, cn_date, register_font
from fangfanpin.deliverables.places import village_place
from fangfanpin.deliverables.sheets.common import NO_HEAD_ZH
from fangfanpin.deliverables.workdays import TODAY, ordinal, prepare_workdays
from fangfanpin.workflow.decide.day import TASK_STATES

FOLDER = "排查任务"
# the note under the title, one sentence a line: wrapped by the paragraph, it cut 走访 in two
HEADER_NOTE = (
    "按优先级排列（先看规则严重程度，再看模型估计的可能性），序号即优先级，走不完时请先走访靠前的农户；",
    "走访后在“走访结果”回传模板中逐项填写",
)
_NOTE_MARKUP = "<br/>".join(HEADER_NOTE)
# the three guarantees and drinking water, two questions a line: wrapped by the cell, a last 「□否」 stood alone
GUARANTEES = (
    "义务教育有保障 □是 □否　基本医疗有保障 □是 □否",
    "住房安全有保障 □是 □否　饮水安全有保障 □是 □否",
)
# texts most packs print that come from elsewhere: priority_zh (deliverables.data), the workflow's 核实内容 and the
# policy's usual risk types
USUAL_TEXTS = (
    "规则严重程度高中；模型概率",
    "入户核实：家庭情况；收入、合规自付支出、三保障及饮水安全　复核比对异常：比对发现的问题",
    "核实收入是否持续稳定高于监测线、三保障及饮水安全是否有保障，是否可以风险消除",
    "因病　因残　因学　因自然灾害　因意外事故　缺劳动力　其他",
)

TASKS_SQL = f"""
SELECT t.village_code, hh.village_name, t.township, t.task_id, t.purpose, t.household_id,
       coalesce(hh.head_name, CASE WHEN hh.head_id IS NULL THEN $no_head END) AS head_name, hh.head_id, hh.phone,
       t.what_to_verify_zh, t.issued_date, t.due_date,
       {ordinal("t.due_date")} - {TODAY} AS working_days_left, t.priority_rank, t.priority_zh
FROM {OPEN_TASKS} t LEFT JOIN dlv_hh hh ON hh.household_id = t.household_id
ORDER BY t.village_code, t.priority_rank"""


@dataclass
class TaskPack:
    village_code: str
    village_name: str
    township: str
    tasks: list[dict]


def village_task_packs(con: duckdb.DuckDBPyConnection, day: date, county: str, policy: Policy) -> list[TaskPack]:
    """The open visit tasks of ``county`` on ``day``, one pack per village; needs ``data.prepare`` first. Working days
    left are counted as on the 排查任务 sheet (deliverables/workdays.py)."""
    prepare_workdays(con, day, policy.as_of(day).workflow)
    packs = []
    for village, tasks in groupby(
        rows(con, TASKS_SQL, {"d": day, "c": county, "no_head": NO_HEAD_ZH}), key=lambda r: r["village_code"]
    ):
        tasks = list(tasks)
        first = tasks[0]
        packs.append(TaskPack(village, village_place(first["village_name"] or village), first["township"] or "", tasks))
    return packs


def task_pack_pdf(pack: TaskPack, day: date, county_name: str) -> bytes:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph

    from fangfanpin.deliverables.task_card import TaskCard, Typesetter  # slow: imports reportlab

    font = register_font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=2 * mm)
    sub = ParagraphStyle("s", fontName=font, fontSize=10, leading=14, alignment=1, spaceAfter=4 * mm)
    title, subtitle = _header(escape(mask_text(pack.village_name)), county_name, pack.township, day, len(pack.tasks))
    story = [Paragraph(title, title_style), Paragraph(subtitle, sub)]
    conclusions = "　".join(f"□{v}" for v in load_contract("visit_results").column("conclusion").values)
    typeset = Typesetter(ParagraphStyle("c", fontName=font, fontSize=9.5, leading=13))  # every cell's
    story += [TaskCard(card_rows(i, t, conclusions), typeset, 4 * mm) for i, t in enumerate(pack.tasks, start=1)]
    return build_pdf(
        story,
        day,
        title=title,
        author=f"{county_name}防返贫监测",
        subject="入户排查任务单",
        margin_mm=14,
        first_text=form_text(conclusions),
    )


def _header(village: str, county_name: str, township: str, day: date, tasks: int) -> tuple[str, str]:
    """The pack's title and the paragraph under it (``village`` already escaped)."""
    return f"{village}入户排查任务单", (
        f"{escape(county_name)} {escape(township)}　截至{cn_date(day)}未完成的走访任务共 {tasks} 项<br/>{_NOTE_MARKUP}"
    )


@cache
def form_text(conclusions: str) -> str:
    """Every character of the form that is not ASCII, once, in a fixed order: the header, the card's labels and fixed
    texts for every kind of task and due date, and the usual texts. A pack's font starts with them (build_pdf's
    first_text), so that its first subset, more than the 159 characters a subset has beside ASCII, is the same in
    every pack and made once a process."""
    blank = dict.fromkeys(
        ("task_id", "head_name", "household_id", "head_id", "phone", "priority_zh", "what_to_verify_zh"), ""
    )
    cards = [
        card_rows(1, blank | {"purpose": purpose, "due_date": date(2000, 1, 1), "working_days_left": left}, conclusions)
        for purpose in TASK_STATES.values()
        for left in (0, -1)
    ]
    cells = (cell for rows in cards for row in rows for cell in row)
    texts = [*_header("", "", "", date(2000, 1, 1), 0), *("".join(c) if isinstance(c, tuple) else c for c in cells)]
    return "".join(dict.fromkeys(c for c in "".join([*texts, *USUAL_TEXTS]) if not c.isascii()))


def card_rows(number: int, t: dict, conclusions: str) -> list[list[str | tuple[str, ...]]]:
    """The texts of the card of task ``t``, ``number`` in the pack, as the rows of four cells of its grid
    (deliverables/task_card.py); ``conclusions`` are the boxes to tick for the conclusion. A cell's text is wrapped
    to its width, or is a tuple of the lines it prints."""
    left = t["working_days_left"]
    due = f"{t['due_date']:%Y-%m-%d}（{'剩余' if left >= 0 else '已逾期'} {abs(left)} 个工作日）"
    return [
        [f"{number}. {t['purpose']}", t["task_id"], "截止日期", due],
        ["户主姓名", t["head_name"] or "", "户编号", t["household_id"]],
        ["证件号码", mask_id(t["head_id"]), "联系电话", mask_phone(t["phone"])],
        ["优先依据", t["priority_zh"] or "未触发规则，无模型概率", "", ""],
        ["核实内容", mask_text(t["what_to_verify_zh"] or ""), "", ""],
        ["排查日期", "____年__月__日", "排查人", ""],
        ["三保障及饮水", GUARANTEES, "", ""],
        ["核实收入", "家庭人均纯收入 ________ 元　合规自付支出 ________ 元", "", ""],
        ["排查结论", conclusions, "", ""],
        ["情况说明", "", "", ""],
    ]
