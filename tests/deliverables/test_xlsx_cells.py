"""CellWriter writes the bytes xlsxwriter's own worksheet writes, for any mix of cells the outbox writes."""

import io
from datetime import date, datetime

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet

from fangfanpin.deliverables.xlsx_cells import CellWriter

pytestmark = pytest.mark.unit

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
VALUE = st.one_of(
    TEXT,
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.booleans(),
)
CELL = st.tuples(st.integers(0, 40), st.integers(0, 6), VALUE, st.sampled_from(["none", "text", "date", "amount"]))


def _book(cells, worksheet_class, *, row_format: bool) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    wb.set_properties({"created": datetime(2026, 11, 20)})
    formats = {
        "none": None,
        "text": wb.add_format({"valign": "top", "text_wrap": True}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "amount": wb.add_format({"num_format": "#,##0", "bg_color": "#FFC7CE"}),
    }
    ws = wb.add_worksheet("表", worksheet_class=worksheet_class)
    ws.set_column(2, 2, 12, formats["amount"])  # a column format, for cells without their own
    if row_format:
        ws.set_row(3, None, formats["date"])
    for row, col, value, fmt in cells:
        f = formats[fmt]
        if isinstance(value, str):
            if issubclass(worksheet_class, CellWriter) and f is not None:
                ws.text(row, col, value, f)
            else:
                ws.write_string(row, col, value, f)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, f)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, f)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime.combine(value, datetime.min.time()), f)
        else:
            ws.write_number(row, col, value, f)
    wb.close()
    return buf.getvalue()


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(CELL, max_size=60), row_format=st.booleans())
def test_same_bytes_as_xlsxwriter(cells, row_format):
    assert _book(cells, CellWriter, row_format=row_format) == _book(cells, Worksheet, row_format=row_format)


class _Miswritten(CellWriter):
    """A CellWriter that writes a string cell's type before its format: what the comparison must catch."""

    def _write_cell(self, row, col, cell):
        if cell.format and cell.__class__.__name__ == "String":
            ref, style = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            self.fh.write(f'<c r="{ref}" t="s" s="{style}"><v>{cell.string}</v></c>')
            return
        super()._write_cell(row, col, cell)


def test_the_comparison_sees_a_cell_written_otherwise():
    cells = [(1, 1, "甲", "text"), (2, 2, 3.5, "amount")]
    assert _book(cells, _Miswritten, row_format=False) != _book(cells, Worksheet, row_format=False)
    assert _book(cells, CellWriter, row_format=False) == _book(cells, Worksheet, row_format=False)
