"""Table cells as plain strings (deliverables.pdf.cell_text) print as a Paragraph in the same cell prints: the same
lines at the same places, read back from the PDF with pypdf."""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table, TableStyle

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables.notices import COLUMN_WIDTHS_MM, Notice, notice_pdf
from fangfanpin.deliverables.pdf import CELL_PADDING, build_pdf, cell_text, register_font

pytestmark = pytest.mark.unit

WIDTHS = [26 * mm, 40 * mm, 90 * mm]
ROWS = [
    ["1. 排查", "RW-150625-20251130-0004", "2025-12-05（已逾期 204 个工作日）"],
    [
        "三保障及饮水",
        "胡全",
        "义务教育有保障 □是 □否　基本医疗有保障 □是 □否　住房安全有保障 □是 □否　饮水安全有保障 □是 □否",
    ],
    ["核实内容", "", "入户核实：收入、合规自付支出、三保障及饮水安全；  家庭成员 <3人> & 住房"],
    ["情况", "一段没有空格的很长的中文说明文字一段没有空格的很长的中文说明文字", "150625********0837"],
    ["编号", "X" * 40, "家庭人均纯收入 ________ 元　合规自付支出 ________ 元"],
]


def _runs(pdf: bytes) -> list[tuple[str, float, float]]:
    """Every piece of text drawn, with where it starts (points, rounded)."""
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((text.strip(), round(x, 2), round(y, 2)))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sorted(runs, key=lambda r: (-r[2], r[1]))


def _pdf(cells: list[list]) -> bytes:
    font = register_font()
    table = Table(cells, colWidths=WIDTHS)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("LEADING", (0, 0), (-1, -1), 13),
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return build_pdf([table], date(2026, 9, 30), title="t", author="a", subject="s")


def test_cells_as_strings_print_where_paragraphs_print():
    style = ParagraphStyle("c", fontName=register_font(), fontSize=9.5, leading=13)
    paragraphs = _runs(_pdf([[Paragraph(escape(v), style) for v in row] for row in ROWS]))
    strings = _runs(_pdf([[cell_text(v, style, w) for v, w in zip(row, WIDTHS)] for row in ROWS]))
    assert strings == paragraphs
    assert len({y for _, _, y in paragraphs}) > len(ROWS)  # some cells wrap onto more lines


def test_a_cell_is_a_string_unless_a_character_is_wider_than_the_cell():
    style = ParagraphStyle("c", fontName=register_font(), fontSize=9.5, leading=13)
    assert cell_text("胡全", style, 40 * mm) == "胡全"
    assert "\n" in cell_text(ROWS[1][2], style, 90 * mm)  # wrapped as the Paragraph wraps it
    assert cell_text("X" * 40, style, 40 * mm).count("\n") == 2  # a long word split as the Paragraph splits it
    assert isinstance(cell_text("胡全", style, 12 + 5), Paragraph)  # no line fits: drawn as reportlab draws it


def test_a_notice_breaks_its_risk_types_after_the_comma_never_before_it():
    """A household's risk types wrap as a villager reads a list: a line ends after a 、 and holds whole types, so no
    line of the posted notice starts with the comma or with the rest of a cut type; only a type too wide for a line
    with its comma is cut, and its last character goes down with the comma."""
    font, size, room = register_font(), 10.5, COLUMN_WIDTHS_MM[-1] * mm - 2 * CELL_PADDING - 1  # listed_lines' room
    types = load_policy().risk_types
    lists = [list(types[i:] + types[:i]) for i in range(0, len(types), 4)]  # one page: its lines in order
    members = [
        {"head_name": f"户主{i}", "group": "一组", "size": 3, "last": "脱贫户", "risk_types": listed}
        for i, listed in enumerate(lists)
    ]
    batch = {"batch_id": "GS-150625-20261120-001", "start_date": date(2026, 11, 20), "end_date": date(2026, 11, 26)}
    notice = Notice(
        "150625100220", "扎日格嘎查", "扎日格嘎查村民委员会", "某镇", "纳入", [batch | {"members": members}]
    )
    runs = _runs(notice_pdf(notice, date(2026, 11, 20)))
    column = next(x for text, x, _ in runs if text == "风险类型")
    lines = [text for text, x, _ in runs if abs(x - column) < 1 and text != "风险类型"]
    assert "".join(lines) == "".join("、".join(listed) for listed in lists) and len(lines) > 2 * len(
        lists
    )  # every list printed whole, wrapped
    assert not [line for line in lines if line.startswith("、")]
    too_wide = [t for t in types if stringWidth(t + "、", font, size) > room]
    cut = [part for line in lines for part in line.removesuffix("、").split("、") if part not in types]
    assert cut and all(any(part in t for t in too_wide) for part in cut), cut
