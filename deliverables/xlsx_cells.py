"""xlsxwriter's worksheet with a shorter inner loop for the cells of the return templates: the same bytes.

When a workbook is closed, xlsxwriter writes every cell through ``Worksheet._write_cell``, which passes each attribute
through its XML escaping. A cell reference (``A1``) and a format's index (an int, which the escaping tries as a
string and catches the TypeError) never need it, and that try was most of the time of writing a cell.
``CellWriter`` writes a string, number or date cell that has a format of its own, as xlsxwriter does, in one
formatted string; every other cell goes to xlsxwriter's own code. ``tests/deliverables/test_xlsx_cells.py`` holds
the bytes equal to xlsxwriter's for the pinned version.

    wb.add_worksheet(name, worksheet_class=CellWriter)
"""

from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet


class CellWriter(Worksheet):
    """A worksheet whose string, number and date cells with a cell format are written without escaping."""

    def _write_cell(self, row: int, col: int, cell) -> None:
        kind = cell.__class__.__name__  # xlsxwriter's cell tuples are told apart by their class's name
        if cell.format and not self.constant_memory and kind in ("String", "Number", "Datetime"):
            ref, style = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            if kind == "String":  # cell.string: the shared string's index
                self.fh.write(f'<c r="{ref}" s="{style}" t="s"><v>{cell.string}</v></c>')
            else:
                self.fh.write(f'<c r="{ref}" s="{style}"><v>{cell.number:.16G}</v></c>')
            return
        super()._write_cell(row, col, cell)

    def text(self, row: int, col: int, string: str, cell_format) -> int:
        """``write_string`` for a row and column given as numbers: without the argument conversion of the public
        method, which accepts ``"A1"`` too."""
        return self._write_string(row, col, string, cell_format)
