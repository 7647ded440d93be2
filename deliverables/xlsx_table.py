"""A sheet's data rows written column by column: the bytes xlsxwriter writes cell by cell, without a Python step a cell.

xlsxwriter keeps every cell as an object and writes it with a few function calls, twice (when it is written and when
the workbook is closed); a county's workbook at a million households is hundreds of thousands of cells. Here a
column's values are told apart once each (``CellSpec``: format, shared string or number, display width), the rows
are numpy arrays of indices into them, and the sheet's XML is put together by polars when the workbook is closed.

What stays xlsxwriter's: the header row, the shared-string table (strings are numbered in the order a row-by-row
writer meets them), the formats' numbers (given in the order the cells first use them, when the sheet is written),
the row tag (``_write_row``), dimensions, panes, filters and print setup. ``tests/deliverables/test_xlsx_table.py``
holds the bytes equal to writing every cell with xlsxwriter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_col_to_name
from xlsxwriter.worksheet import Worksheet, _utf16_len, _utf16_truncate

MAX_STRING = 32767  # UTF-16 units in a cell; xlsxwriter cuts a longer string there


@dataclass(frozen=True)
class CellSpec:
    """How one distinct value is written: its format's name, a string (shared) or a number (a date as its Excel serial
    number), and the width it asks of its column."""

    format: str
    value: str | float
    width: int = 0


def excel_serial(d) -> float:
    """A datetime as the number an Excel date cell holds (days since 1899-12-30, as xlsxwriter writes it)."""
    return _datetime_to_excel_datetime(d, False, False)


def shared_string(s: str) -> str:
    """A string as a cell holds it: cut at 32,767 UTF-16 units, as xlsxwriter's ``write_string`` cuts it."""
    return _utf16_truncate(s, MAX_STRING) if len(s) > MAX_STRING // 2 and _utf16_len(s) > MAX_STRING else s


_SELF_KEYED = {str, int, date}  # not datetime: 12:00+08:00 equals 04:00+00:00 and is written otherwise


@dataclass
class TableColumn:
    """One column's cells: ``ids`` (a row's index into ``specs``, -1 for an empty cell), the distinct ``values`` and
    their ``specs``; ``lines`` (for a wrapped column) the printed lines of each distinct value."""

    ids: np.ndarray
    values: list
    specs: list[CellSpec]
    lines: list[int] | None = None


def column_of(values: list, spec_of) -> TableColumn:
    """``values`` (a column, one per row) as indices into their distinct ``spec_of(value)``; None and "" are empty.
    Values are told apart by type and ``repr``, as a writer a cell at a time writes them: True is not 1, -0.0 is not
    0.0, Decimal("1.0") is not Decimal("1.00"), and a list is a value like another. A column of text, integers or
    dates alone, whose equal values are written alike, is keyed by its values (the cheaper way).

    >>> column = column_of(["甲", None, "甲", "", 0.0, -0.0, ["乙"]], repr)
    >>> column.ids.tolist(), column.values
    ([0, -1, 0, -1, 1, 2, 3], ['甲', 0.0, -0.0, ['乙']])
    """
    kinds = set(map(type, values)) - {type(None)}
    # one kind whose equal values write alike (not float: -0.0; not Decimal: 1.0 and 1.00): the value is its own key
    keys = values if len(kinds) < 2 and kinds <= _SELF_KEYED else list(zip(map(type, values), map(repr, values)))
    first = dict(zip(reversed(keys), reversed(values)))  # a key's value where it first stands
    present, index = [], {}
    for key in dict.fromkeys(keys):
        value = first[key]
        if value is None or (isinstance(value, str) and not value):
            index[key] = -1
        else:
            index[key] = len(present)
            present.append(value)
    ids = np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
    return TableColumn(ids, present, [spec_of(v) for v in present])


class TableSheet(Worksheet):
    """A worksheet whose rows below the header are a ``Table``: ``set_table`` after the header row is written."""

    data_rows: Table | None = None

    def set_table(self, table: Table) -> None:
        self.data_rows = table
        table.claim(self)

    def _write_rows(self) -> None:
        if self.data_rows is None:
            super()._write_rows()
            return
        self._write_row(0, self.data_rows.spans[0], self.row_info.get(0))
        for col in sorted(self.table[0]):
            self._write_cell(0, col, self.table[0][col])
        self._xml_end_tag("row")
        self.fh.write(self.data_rows.xml(self))


class Table:
    """The data rows of a sheet (row 1 on) whose header row 0 has a cell in every one of ``len(columns)`` columns.
    ``formats``: the workbook's formats by name; ``line_height``: the points of a printed line, for rows whose
    wrapped text needs more than one."""

    def __init__(self, columns: list[TableColumn], formats: dict, line_height: float):
        self.columns, self.formats = columns, formats
        self.n = len(columns[0].ids) if columns else 0
        ids = np.stack([c.ids for c in columns], axis=1) if self.n else np.zeros((0, len(columns)), dtype=np.int64)
        self.present = ids >= 0
        self.filled = self.present.any(axis=1)  # rows with a cell: a row without is not written
        self.heights = self._heights(line_height)
        self.spans = self._spans()
        # set when the sheet claims the table (claim): each column's <v> texts, the rows' RowInfo by height, and the
        # formats in the order the cells first use them
        self.values: list[list[str]] = []
        self.row_info: dict[float, object] = {}
        self.format_order: list[str] = []

    def _heights(self, line_height: float) -> np.ndarray:
        """Each row's height in points, 0 for the default: the most lines of its wrapped cells."""
        lines = np.ones(self.n, dtype=np.int64)
        for col in self.columns:
            if col.lines is not None and self.n:
                per_value = np.append(np.asarray(col.lines, dtype=np.int64), 1)  # an empty cell: one line
                lines = np.maximum(lines, per_value[col.ids])
        return np.where(lines > 1, lines * line_height, 0)

    def _spans(self) -> dict[int, str]:
        """xlsxwriter's ``spans`` of each block of 16 rows: the first and last column with a cell (header included)."""
        width = len(self.columns)
        rows = np.flatnonzero(self.filled)
        first = self.present[rows].argmax(axis=1)
        last = width - 1 - self.present[rows][:, ::-1].argmax(axis=1)
        blocks = pl.DataFrame({"block": (rows + 1) // 16, "first": first, "last": last})
        blocks = pl.concat(
            [pl.DataFrame({"block": [0], "first": [0], "last": [width - 1]}), blocks], how="vertical_relaxed"
        )
        spans = blocks.group_by("block").agg(pl.col("first").min(), pl.col("last").max())
        return {b: f"{f + 1}:{la + 1}" for b, f, la in spans.iter_rows()}

    def claim(self, ws: Worksheet) -> None:
        """Number the table's strings in the workbook's shared-string table, set the sheet's dimensions and the row
        heights, as writing every cell row by row would."""
        self.values = self._share_strings(ws.str_table)
        rows = np.flatnonzero(self.filled)
        if len(rows):
            ws._check_dimensions(int(rows[-1]) + 1, int(np.flatnonzero(self.present.any(axis=0))[-1]))
        for height in np.unique(self.heights[self.heights > 0]):  # set_row's side effects, once a distinct height
            first_row = int(np.flatnonzero(self.heights == height)[0]) + 1
            ws.set_row(first_row, float(height))
            self.row_info[float(height)] = ws.row_info[first_row]
        names = list(dict.fromkeys(s.format for c in self.columns for s in c.specs))
        number = {name: i for i, name in enumerate(names)}
        order, _ = self._first_seen([[number[s.format] for s in c.specs] for c in self.columns])
        self.format_order = [names[i] for i in order]

    def _first_seen(self, per_column: list[list[int]]) -> tuple[list[int], int]:
        """The distinct numbers the cells hold (``per_column``: a number per spec, -1 for none), in the order a
        row-by-row writer meets them, and how many cells hold one."""
        if not self.n:
            return [], 0
        lookup = [np.asarray([*numbers, -1], dtype=np.int64) for numbers in per_column]  # ids of -1 take the last
        cells = np.stack([v[c.ids] for v, c in zip(lookup, self.columns)], axis=1)[self.present]
        cells = cells[cells >= 0]
        unique, first = np.unique(cells, return_index=True)
        return unique[np.argsort(first, kind="stable")].tolist(), len(cells)

    def _share_strings(self, sst) -> list[list[str]]:
        """Each column's specs' values as written in ``<v>``: the shared string's index, or the number."""
        strings = list(dict.fromkeys(s.value for c in self.columns for s in c.specs if isinstance(s.value, str)))
        number = {t: i for i, t in enumerate(strings)}
        order, counted = self._first_seen(
            [[number[s.value] if isinstance(s.value, str) else -1 for s in c.specs] for c in self.columns]
        )
        shared = {strings[i]: sst._get_shared_string_index(strings[i]) for i in order}
        if order:
            sst.count += counted - len(order)  # every further use of a string counts, as xlsxwriter counts it
        return [
            [str(shared[s.value]) if isinstance(s.value, str) else f"{s.value:.16G}" for s in c.specs]
            for c in self.columns
        ]

    def xml(self, ws: Worksheet) -> str:
        """The data rows' XML; numbers the formats first used here, as writing the cells would."""
        if not self.n:
            return ""
        index = {name: self.formats[name]._get_xf_index() for name in self.format_order}
        frame = {"r": pl.Series(np.arange(2, self.n + 2)).cast(pl.Utf8), "tag": self._row_tags(ws)}
        for c, (col, values) in enumerate(zip(self.columns, self.values)):
            tails = [
                f'" s="{index[s.format]}" t="s"><v>{v}</v></c>'
                if isinstance(s.value, str)
                else f'" s="{index[s.format]}"><v>{v}</v></c>'
                for s, v in zip(col.specs, values)
            ]
            frame[str(c)] = pl.Series([*tails, None], dtype=pl.Utf8).gather(np.where(col.ids < 0, len(tails), col.ids))
        cells = [
            pl.concat_str([pl.lit(f'<c r="{xl_col_to_name(c)}'), pl.col("r"), pl.col(str(c))])
            for c in range(len(self.columns))
        ]
        row = pl.concat_str(
            [pl.lit('<row r="'), pl.col("r"), pl.col("tag"), *cells, pl.lit("</row>")], ignore_nulls=True
        )
        rows = pl.DataFrame(frame).filter(pl.Series(self.filled)).select(row.alias("x"))
        return rows["x"].str.join("").item()

    def _row_tags(self, ws: Worksheet) -> pl.Series:
        """Each row's tag after its number (``" spans="…">``, with its height), rendered by xlsxwriter's
        ``_write_row`` once a distinct tag."""
        heights, height_of = np.unique(self.heights, return_inverse=True)
        keys, key_of = np.unique((np.arange(1, self.n + 1) // 16) * len(heights) + height_of, return_inverse=True)
        suffixes = []
        for key in keys.tolist():
            block, height = divmod(key, len(heights))
            height = float(heights[height])
            out, ws.fh = ws.fh, io.StringIO()  # _write_row writes to the sheet's file: caught, then put back
            ws._write_row(0, self.spans.get(block), self.row_info.get(height) if height else None)
            rendered, ws.fh = ws.fh.getvalue(), out
            suffixes.append(rendered[len('<row r="1') :])
        return pl.Series(suffixes, dtype=pl.Utf8).gather(key_of)
