"""The workbook writer: one table per sheet, Chinese header row (frozen, with an autofilter), widths from the
content, dates as Excel dates, amounts and scores as numbers, risk level coloured; feed text always written as text.
A column's distinct values are worked out once each (``Writer._spec``), and the rows are written column by column
(deliverables/xlsx_table.py).

    w = Writer(day); w.sheet("说明", cols, rows); payload = w.close()
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial

from fangfanpin.deliverables.masking import mask_text
from fangfanpin.deliverables.xlsx_strings import StringsAtOnceWorkbook
from fangfanpin.deliverables.xlsx_table import CellSpec, Table, TableSheet, column_of, excel_serial, shared_string

LEVEL_COLOURS = {"高": ("#FFC7CE", "#9C0006"), "中": ("#FFEB9C", "#9C5700"), "低": ("#C6EFCE", "#006100")}
DATE_FORMAT = "yyyy-mm-dd"
AMOUNT_FORMAT = "#,##0"
SCORE_FORMAT = "0.0000"
PERCENT_FORMAT = "0.00%"  # a model probability 0.0034 reads 0.34%
SIGNED_FORMAT = "+0;-0;0"  # a day's change: +3, -2, 0
LINE_HEIGHT = 15  # points per printed line at the default font size
NAME_HEADERS = ("户主姓名",)  # the column frozen beside the header row
TOP = {"valign": "top"}  # rows with wrapped long text grow; every cell stays at the top of its row


@dataclass(frozen=True)
class Col:
    header: str
    key: str
    # text / code (identifier, not masked) / phone / date / int / signed / amount / score / percent / level / auto
    kind: str = "text"
    width: float | None = None


def percent_text(x: float) -> str:
    """A probability as the county reads it: 0.5 → 50%, 0.335 → 33.5%."""
    return f"{x * 100:.2f}".rstrip("0").rstrip(".") + "%"


# ----------------------------------------------------------------------------------------------------------- writer
_WIDE = re.compile("[\u2e81-\U0010ffff]")  # CJK and full-width forms take two columns


def _display_width(value) -> int:
    s = value if isinstance(value, str) else str(value)
    return len(s) + len(_WIDE.findall(s))


class Writer:
    def __init__(self, day: date):
        self.buf = io.BytesIO()
        self.wb = StringsAtOnceWorkbook(
            self.buf,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
        )
        created = datetime.combine(day, time(0, 0))
        self.wb.set_properties(
            {
                "title": "防返贫监测工作清单",
                "subject": f"交付日期 {day.isoformat()}",
                "author": "fangfanpin",
                "company": "",
                "created": created,
                "comments": "由防返贫监测数据管道生成",
            }
        )
        add = self.wb.add_format
        self.f = {
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}),
            "text": add(TOP),
            "wrap": add(TOP | {"text_wrap": True}),
            "date": add(TOP | {"num_format": DATE_FORMAT}),
            "int": add(TOP | {"num_format": "0"}),
            "amount": add(TOP | {"num_format": AMOUNT_FORMAT}),
            "score": add(TOP | {"num_format": SCORE_FORMAT}),
            "percent": add(TOP | {"num_format": PERCENT_FORMAT}),
            "signed": add(TOP | {"num_format": SIGNED_FORMAT}),
            "num": add(TOP),
        }
        for level, (bg, fg) in LEVEL_COLOURS.items():
            self.f["level" + level] = add(TOP | {"bg_color": bg, "font_color": fg, "bold": True, "align": "center"})

    def _spec(self, kind: str, v, measure: bool) -> CellSpec:
        """How a non-empty value ``v`` of a column of ``kind`` is written, and its display width (0 unless
        ``measure``: a column of fixed width needs none; a number or date is measured all the same)."""
        if kind == "wrap" and not isinstance(v, str):
            kind = "text"
        if kind == "auto":
            kind = auto_kind(v)
        if kind == "date":
            d = v if isinstance(v, datetime) else datetime.combine(v, time(0, 0))
            return CellSpec("date", excel_serial(d), 10)
        if kind in ("int", "signed", "amount", "score", "percent", "num"):
            number = float(v)
            if not math.isfinite(number):  # refused, as xlsxwriter's write_number refuses it: Excel has no such number
                raise TypeError(f"NAN/INF not supported in a number cell ({kind})")
            return CellSpec(kind, number, len(f"{number:,.0f}") + {"score": 5, "percent": 6, "signed": 1}.get(kind, 0))
        if kind == "level":
            s = str(v)
            return CellSpec("level" + s if "level" + s in self.f else "text", s, 4)
        s = shared_string(_text(kind, v))
        return CellSpec("wrap" if kind == "wrap" else "text", s, _display_width(s) if measure else 0)

    def sheet(self, name: str, cols: list[Col], data: list[dict]) -> int:
        ws = self.wb.add_worksheet(name, worksheet_class=TableSheet)
        for c, col in enumerate(cols):
            ws.write_string(0, c, col.header, self.f["header"])
        columns = []
        for col in cols:
            kind = "wrap" if col.width and col.kind == "text" else col.kind
            measure = not col.width  # a column of fixed width needs no measuring
            column = column_of([row.get(col.key) for row in data], partial(self._spec, kind, measure=measure))
            if col.width and col.kind == "text":  # long free text wraps instead of being cut by the next column
                lines = _lines_in(col.width)
                column.lines = [lines(v) for v in column.values]
            columns.append(column)
        ws.set_table(Table(columns, self.f, LINE_HEIGHT))
        for c, (col, column) in enumerate(zip(cols, columns)):
            width = max([_display_width(col.header), *(s.width for s in column.specs)])
            ws.set_column(c, c, col.width or min(max(width + 2, 8), 60))
        names = [c for c, col in enumerate(cols) if col.header in NAME_HEADERS]
        ws.freeze_panes(1, names[0] + 1 if names else 0)  # who the row is about stays in sight when scrolling right
        ws.autofilter(0, 0, max(len(data), 1), len(cols) - 1)
        _print_setup(ws)
        return len(data)

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def _text(kind: str, v) -> str:
    """A text cell's string: identifiers and phones as they are, a flag as 是/否, any other text masked."""
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v) if kind in ("phone", "code") else mask_text(str(v))


def auto_kind(v) -> str:
    """The kind of a value in a column of kind ``auto``: a date, a number, an integer or text."""
    if isinstance(v, date):
        return "date"
    if isinstance(v, float):
        return "num"
    return "int" if isinstance(v, int) and not isinstance(v, bool) else "text"


def _lines_in(width: float) -> Callable[[object], int]:
    """``lines(value)``: the printed lines of a wrapped cell of a column ``width`` wide, its display width over the
    column's (a CJK character counts two); a value not a text, one line."""
    room = max(int(width) - 1, 1)
    return lambda value: -(-_display_width(value) // room) if isinstance(value, str) and value else 1


def _print_setup(ws) -> None:
    """A4 landscape, every column on the page's width, the header row on every page, page numbers."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
