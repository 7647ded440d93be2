"""A village task pack's cards, drawn straight onto the canvas (deliverables/task_card.py), print what a platypus
Table per card printed: the same strings at the same places in the same colours, the same lines and fills, the same
pages. The Table card is kept here as the reference; both are read back from the PDF (pypdf: the text and where it
starts; the page's operators: what is painted, where, in which colour and line style)."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from datetime import date
from functools import cache
from xml.sax.saxutils import escape

import duckdb
import pytest
from deliverables_helpers import COUNTIES, END
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from fangfanpin.config.policy import load_policy
from fangfanpin.core.privacy import mask_text
from fangfanpin.data_contracts import load_contract
from fangfanpin.deliverables import data as D
from fangfanpin.deliverables.pdf import CELL_PADDING, build_pdf, cell_text, cn_date, register_font
from fangfanpin.deliverables.pdf_subsets import share_subset_programs
from fangfanpin.deliverables.task_card import TaskCard, Typesetter, cell_width
from fangfanpin.deliverables.task_packs import (
    GUARANTEES,
    HEADER_NOTE,
    TaskPack,
    card_rows,
    task_pack_pdf,
    village_task_packs,
)

pytestmark = pytest.mark.warehouse

LONG_CHECK = (
    "入户核实：义务教育阶段失学辍学、住房出现安全问题、家庭成员未参加基本医疗保险、因病、因残、因学、因灾、"
    "因意外事故、因务工就业不稳、因产业项目失败、其他；收入、合规自付支出、三保障及饮水安全；"
    "另请核实家庭成员变化与住房改造进度，并留存照片"
)


def _reference_table(cells: list[list], text: ParagraphStyle) -> Table:
    """A card as a Table: how the cards printed before they were drawn directly."""
    label = colors.HexColor("#333333")
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), text.fontName),
            ("FONTSIZE", (0, 0), (-1, -1), text.fontSize),
            ("LEADING", (0, 0), (-1, -1), text.leading),
            *[("TEXTCOLOR", a, b, label) for a, b in (((0, 0), (0, -1)), ((2, 0), (2, 2)), ((2, 5), (2, 5)))],
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            *[("SPAN", (1, r), (3, r)) for r in (3, 4, 6, 7, 8, 9)],
        ]
    )
    return Table(cells, colWidths=[26 * mm, 52 * mm, 26 * mm, 70 * mm], rowHeights=[None] * 9 + [16 * mm], style=style)


def _fitted(rows: list[list], text: ParagraphStyle) -> list[list]:
    width = [26 * mm, 52 * mm, 26 * mm, 70 * mm]

    def fitted(value, room):
        if isinstance(value, tuple):  # the lines it prints: a Table prints a string's lines as they are
            return "\n".join(value)
        return value if isinstance(value, Paragraph) else cell_text(value, text, room)

    fit = cache(fitted)
    return [[fit(v, sum(width[1:]) if r in (3, 4, 6, 7, 8, 9) and c == 1 else width[c]) for c, v in enumerate(row)]
            for r, row in enumerate(rows)]  # fmt: skip


def _reference_pdf(pack: TaskPack, day: date, county_name: str) -> bytes:
    """task_pack_pdf as it was with a Table per card."""
    font = register_font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=2 * mm)
    sub = ParagraphStyle("s", fontName=font, fontSize=10, leading=14, alignment=1, spaceAfter=4 * mm)
    title = f"{escape(mask_text(pack.village_name))}入户排查任务单"
    story = [
        Paragraph(title, title_style),
        Paragraph(
            f"{escape(county_name)} {escape(pack.township)}　截至{cn_date(day)}未完成的走访任务共 {len(pack.tasks)} 项<br/>"
            "按优先级排列（先看规则严重程度，再看模型估计的可能性），序号即优先级，走不完时请先走访靠前的农户；<br/>"
            "走访后在“走访结果”回传模板中逐项填写",
            sub,
        ),
    ]
    conclusions = "　".join(f"□{v}" for v in load_contract("visit_results").column("conclusion").values)
    text = ParagraphStyle("c", fontName=font, fontSize=9.5, leading=13)
    for i, t in enumerate(pack.tasks, start=1):
        table = _reference_table(_fitted(card_rows(i, t, conclusions), text), text)
        story += [KeepTogether([table, Spacer(1, 4 * mm)])]
    return build_pdf(story, day, title=title, author=f"{county_name}防返贫监测", subject="入户排查任务单", margin_mm=14)


def _text(pdf: bytes) -> list[list[tuple[str, float, float]]]:
    """Each page's pieces of text, with where they start (points, rounded), in the order they are drawn. A piece is
    what one text position shows, however many of the font's subsets it takes (a document's characters are numbered
    in the order it uses them, deliverables/pdf_subsets.py)."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        runs = []

        def visit(text, cm, tm, font, size, runs=runs):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            at = (round(x, 2), round(y, 2))
            if runs and runs[-1][1:] == at:
                runs[-1] = (runs[-1][0] + text, *at)
            else:
                runs.append((text, *at))

        page.extract_text(visitor_text=visit)
        pages.append([(text.strip(), x, y) for text, x, y in runs if text.strip()])
    return pages


def _mul(a, b):
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


_NUMBERS = {b"cm", b"rg", b"RG", b"g", b"G", b"w", b"J", b"j", b"m", b"l", b"re", b"TL", b"Tm", b"Td"}
_IGNORED = {b"q", b"Q", b"n", b"ET", b"Tf"}  # the state they set is what the marks record


def _painted(pdf: bytes) -> list[list[tuple]]:
    """Each page's marks, in the order they are painted: every text shown with its fill colour and where it starts,
    every stroked path with its points, width, colour, cap and join, every filled path with its points and colour."""
    reader, pages = PdfReader(io.BytesIO(pdf)), []
    for page in reader.pages:
        gs = {"cm": (1, 0, 0, 1, 0, 0), "rg": (0,), "RG": (0,), "w": 1.0, "J": 0, "j": 0}
        stack, path, tm, leading, marks, last_op = [], [], None, 0.0, [], None

        def at(x, y, gs=gs):
            c = gs["cm"]
            return round(x * c[0] + y * c[2] + c[4], 3), round(x * c[1] + y * c[3] + c[5], 3)

        for operands, op in ContentStream(page.get_contents(), reader).operations:
            v = [float(o) for o in operands] if op in _NUMBERS else operands
            if op == b"q":
                stack.append(dict(gs))
            elif op == b"Q":
                gs.update(stack.pop())
            elif op == b"cm":
                gs["cm"] = _mul(v, gs["cm"])
            elif op in (b"rg", b"RG", b"g", b"G"):
                gs["rg" if op in (b"rg", b"g") else "RG"] = tuple(round(x, 4) for x in v)
            elif op in (b"w", b"J", b"j"):
                gs[op.decode()] = v[0]
            elif op in (b"m", b"l"):
                path.append(at(*v))
            elif op == b"re":
                path += [at(v[0], v[1]), at(v[0] + v[2], v[1] + v[3])]
            elif op == b"S":
                marks.append(("stroke", tuple(path), gs["w"], gs["RG"], gs["J"], gs["j"]))
            elif op in (b"f", b"f*", b"B"):
                marks.append(("fill", tuple(path), gs["rg"]))
            elif op == b"TL":
                leading = v[0]
            elif op == b"BT":
                tm = (1, 0, 0, 1, 0, 0)
            elif op == b"Tm":
                tm = tuple(v)
            elif op == b"Td":
                tm = _mul((1, 0, 0, 1, *v), tm)
            elif op == b"T*":
                tm = _mul((1, 0, 0, 1, 0, -leading), tm)
            elif op in (b"Tj", b"TJ"):
                m = _mul(tm, gs["cm"])
                mark = ("text", gs["rg"], round(m[4], 3), round(m[5], 3))
                if not (
                    marks and marks[-1] == mark and last_op in (b"Tj", b"TJ", b"Tf", b"TL")
                ):  # one piece, in subsets
                    marks.append(mark)
            elif op not in _IGNORED:
                marks.append(("other", op))
            if op in (b"S", b"f", b"f*", b"B", b"n"):
                path = []
            last_op = op
        pages.append(marks)
    return pages


@pytest.fixture(scope="module")
def packs(warehouse, tmp_path_factory) -> tuple[list[TaskPack], str]:
    """The open tasks of the first county on END, one pack per village, and the county's name."""
    db = tmp_path_factory.mktemp("cards") / "wh.duckdb"
    shutil.copy(warehouse / "wh.duckdb", db)
    with duckdb.connect(str(db)) as con:
        D.prepare(con, END)
        return village_task_packs(con, END, COUNTIES[0], load_policy()), D.county_name(con, COUNTIES[0])


def test_every_pack_prints_as_it_printed_with_a_table_per_card(packs):
    packs, county = packs
    everything = replace(packs[0], tasks=[t for p in packs for t in p.tasks])
    long = replace(packs[0], tasks=[{**packs[0].tasks[0], "what_to_verify_zh": LONG_CHECK}, *everything.tasks[:4]])
    # a cell drawn alike on many cards still follows what came before it and stays in its place: a label after no
    # name, after a name in its colour but another font subset, after one in neither; a name that is a label's text
    # or the task number above it (the same lines in another column, another row)
    names = ("", "Li Wei", everything.tasks[0]["head_name"], "户编号", everything.tasks[0]["task_id"])
    unnamed = [{**t, "head_name": names[i % len(names)]} for i, t in enumerate(everything.tasks[:10])]
    for pack in [*packs, everything, long, replace(packs[0], tasks=unnamed)]:
        pdf, reference = task_pack_pdf(pack, END, county), _reference_pdf(pack, END, county)
        assert _text(pdf) == _text(reference), pack.village_code
        assert _painted(pdf) == _painted(reference), pack.village_code
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(task_pack_pdf(everything, END, county))).pages]
    cards = [sum(t["task_id"] in page for t in everything.tasks) for page in pages]
    assert len(pages) >= 3 and sum(cards) == len(everything.tasks)
    assert cards == [page.count("情况说明") for page in pages]  # every card whole on its page: first row and last
    lines = {y for t, _, y in _text(task_pack_pdf(long, END, county))[0] if len(t) > 3 and t in LONG_CHECK}
    assert len(lines) >= 3  # the long 核实内容 wrapped


def test_the_note_and_the_guarantees_break_between_phrases(packs):
    """Read back from a pack: the note under the title breaks after its first sentence, not inside 走访, and the
    three guarantees and drinking water print two questions a line, no 「□否」 on a line of its own."""
    packs, county = packs
    lines = [text for text, _, _ in _text(task_pack_pdf(packs[0], END, county))[0]]
    assert lines[2:4] == list(HEADER_NOTE)
    cards = lines.count("三保障及饮水")
    assert cards and lines.count(GUARANTEES[0]) == lines.count(GUARANTEES[1]) == cards
    at = lines.index("三保障及饮水")
    assert lines[at + 1 : at + 3] == list(GUARANTEES)
    assert not any(line.replace(" ", "") in ("□否", "□是□否") for line in lines)


def test_the_guarantees_fit_their_cell(packs):
    """The guarantees are drawn as the lines they are given, wrapped by nothing, so each must fit the cell it is in
    (the cards' 9.5 pt, less the cell's padding). The note under the title needs no such test: its paragraph would
    wrap a line too long, and the read-back above would see a third line."""
    packs, _ = packs
    rows = card_rows(1, packs[0].tasks[0], "")
    at = next(r for r, row in enumerate(rows) if row[1] is GUARANTEES)
    room = cell_width(at, 1) - 2 * CELL_PADDING - 1
    assert max(stringWidth(line, register_font(), 9.5) for line in GUARANTEES) < room


def test_a_cell_a_paragraph_prints_where_a_table_prints_it(packs):
    """A cell given as a Paragraph (deliverables.pdf.cell_text gives one for a text it cannot print as plain lines)
    is drawn where and when the Table drew it."""
    packs, _ = packs
    text = ParagraphStyle("c", fontName=register_font(), fontSize=9.5, leading=13)
    rows = card_rows(1, packs[0].tasks[0], "□建议纳入　□暂不纳入")
    rows[1][1] = Paragraph("长长的<u>户主</u>姓名 " * 6, text)  # fragments, underlined: not plain lines
    rows[4][1] = LONG_CHECK
    card = build_pdf([TaskCard(rows, Typesetter(text))], END, title="t", author="a", subject="s")
    table = build_pdf([_reference_table(_fitted(rows, text), text)], END, title="t", author="a", subject="s")
    assert _text(card) == _text(table)
    assert _painted(card) == _painted(table)
    assert len([t for t, _, _ in _text(card)[0] if t.startswith("长长的户主姓名")]) == 3  # wrapped in its cell


def _font_programs(pdf: bytes) -> list[bytes]:
    """The font programs the document embeds, one a subset, in the order of its fonts' names (F2+0, F2+1, …)."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for name, ref in page["/Resources"]["/Font"].items():
            descriptor = ref.get_object().get("/FontDescriptor")  # none for the standard font reportlab declares
            if descriptor is not None:
                fonts[name] = descriptor["/FontFile2"].get_data()
    return [fonts[name] for name in sorted(fonts)]


def test_packs_of_different_villages_share_their_first_font_subset(packs):
    """A pack's font starts with the form's characters, so its first subset (and its compressed program, made once a
    process) is the one every pack has, whatever the village's and the households' names."""
    packs, county = packs
    first, second = (_font_programs(task_pack_pdf(pack, END, county)) for pack in packs[:2])
    assert first[0] == second[0]
    assert first[1:] != second[1:]  # the names are in the other subsets


def test_a_subset_made_once_is_written_as_reportlab_writes_it(packs):
    """The font file and descriptor of a subset taken from those made before (of tables sliced from the font file
    once), and its widths and ToUnicode map written before, are, to the byte, what reportlab writes when it makes the
    subset in the document."""
    packs, county = packs
    font = pdfmetrics.getFont(register_font())
    shared = [task_pack_pdf(pack, END, county) for pack in (*packs[:2], packs[0])]
    del font.face.addSubsetObjects, font.face.get_table, font.addObjects  # reportlab's own again
    try:
        made_here = [task_pack_pdf(pack, END, county) for pack in (*packs[:2], packs[0])]
    finally:
        share_subset_programs(font)
    assert shared == made_here
