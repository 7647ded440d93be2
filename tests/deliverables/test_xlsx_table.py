"""The workbook writer (deliverables/xlsx.py, its rows by deliverables/xlsx_table.py) writes the bytes that writing
every cell with xlsxwriter's own worksheet writes: the oracle below is that writer, one cell at a time."""

from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import Worksheet

from fangfanpin.deliverables import xlsx, xlsx_table
from fangfanpin.deliverables.xlsx import (
    LINE_HEIGHT,
    NAME_HEADERS,
    Col,
    Writer,
    _display_width,
    _lines_in,
    _print_setup,
    _text,
    auto_kind,
)

pytestmark = pytest.mark.unit

DAY = date(2026, 11, 20)
KINDS = ["text", "code", "phone", "date", "int", "signed", "amount", "score", "percent", "level", "auto"]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
EMPTY = st.sampled_from([None, ""])
WORDS = st.sampled_from(["高", "中", "低", "张三", "=1+1", " <甲&乙> ", "身份证 110101199003077777 电话 13812345678"])
NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9),
    st.sampled_from([0.0, -0.0, Decimal("0.00"), Decimal("-0.00"), Decimal("1.0"), Decimal("1.00")]),
)
DATE = st.one_of(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1)),
)
LONG = st.sampled_from(["很长的说明文字" * 12, "x" * 20000 + "𠀀" * 8000])  # wraps; past a cell's 32,767 UTF-16 units
ANY = st.one_of(EMPTY, TEXT, WORDS, LONG, NUMBER, DATE, st.booleans(), st.lists(WORDS, max_size=2))
VALUES = {  # what a column of each kind holds (a text column may hold a number or a flag)
    "date": st.one_of(EMPTY, DATE),
    "level": st.one_of(EMPTY, WORDS),
    "auto": ANY,
    **{k: st.one_of(EMPTY, NUMBER) for k in ("int", "signed", "amount", "score", "percent")},
    **{
        k: st.one_of(EMPTY, TEXT, WORDS, LONG, NUMBER, st.booleans(), st.lists(WORDS, max_size=2))
        for k in ("text", "code", "phone")
    },
}
COLUMN = st.tuples(st.sampled_from(KINDS), st.sampled_from([None, None, 12, 30]), st.sampled_from(["户主姓名", "说明"]))


def _oracle_cell(w: Writer, ws, r: int, c: int, kind: str, v, measure: bool) -> int:
    """One non-empty value written through xlsxwriter, as the writer wrote a cell at a time; its display width."""
    if kind == "wrap" and not isinstance(v, str):
        kind = "text"
    if kind == "auto":
        kind = auto_kind(v)
    if kind == "date":
        ws.write_datetime(r, c, v if isinstance(v, datetime) else datetime.combine(v, datetime.min.time()), w.f["date"])
        return 10
    if kind in ("int", "signed", "amount", "score", "percent", "num"):
        ws.write_number(r, c, float(v), w.f[kind])
        return len(f"{float(v):,.0f}") + {"score": 5, "percent": 6, "signed": 1}.get(kind, 0)
    if kind == "level":
        ws.write_string(r, c, str(v), w.f.get("level" + str(v), w.f["text"]))
        return 4
    s = _text(kind, v)
    ws.write_string(r, c, s, w.f["wrap" if kind == "wrap" else "text"])
    return _display_width(s) if measure else 0


def _oracle_sheet(w: Writer, name: str, cols: list[Col], data: list[dict]) -> int:
    """What Writer.sheet writes, a cell at a time through xlsxwriter's write_string / write_number / write_datetime."""
    ws = w.wb.add_worksheet(name, worksheet_class=Worksheet)
    widths = [_display_width(c.header) for c in cols]
    for c, col in enumerate(cols):
        ws.write_string(0, c, col.header, w.f["header"])
    wrapped = [(col.key, _lines_in(col.width)) for col in cols if col.width and col.kind == "text"]
    for r, row in enumerate(data, start=1):
        for c, col in enumerate(cols):
            v = row.get(col.key)
            if v is not None and v != "":
                kind = "wrap" if col.width and col.kind == "text" else col.kind
                widths[c] = max(widths[c], _oracle_cell(w, ws, r, c, kind, v, not col.width))
        lines = max([lines_of(row.get(key)) for key, lines_of in wrapped], default=1)
        if lines > 1:
            ws.set_row(r, LINE_HEIGHT * lines)
    for c, col in enumerate(cols):
        ws.set_column(c, c, col.width or min(max(widths[c] + 2, 8), 60))
    names = [c for c, col in enumerate(cols) if col.header in NAME_HEADERS]
    ws.freeze_panes(1, names[0] + 1 if names else 0)
    ws.autofilter(0, 0, max(len(data), 1), len(cols) - 1)
    _print_setup(ws)
    return len(data)


def _book(sheets, *, oracle: bool) -> bytes:
    """The workbook by the writer, or by the oracle on xlsxwriter's own workbook (its shared strings a string at a
    time)."""
    with _stock_workbook() if oracle else nullcontext():
        w = Writer(DAY)
    for name, cols, data in sheets:
        (_oracle_sheet(w, name, cols, data) if oracle else w.sheet(name, cols, data))
    return w.close()


@contextmanager
def _stock_workbook():
    kept = xlsx.StringsAtOnceWorkbook
    xlsx.StringsAtOnceWorkbook = xlsxwriter.Workbook
    try:
        yield
    finally:
        xlsx.StringsAtOnceWorkbook = kept


@st.composite
def sheets(draw):
    out = []
    for s in range(draw(st.integers(1, 3))):
        spec = draw(st.lists(COLUMN, min_size=1, max_size=8))
        cols = [
            Col(f"{header}{i}" if i else header, f"k{i}", kind, width) for i, (kind, width, header) in enumerate(spec)
        ]
        rows = draw(st.lists(st.tuples(*(VALUES[col.kind] for col in cols)), max_size=50))
        out.append((f"表{s}", cols, [{f"k{i}": v for i, v in enumerate(row)} for row in rows]))
    return out


@settings(max_examples=120, deadline=None)
@given(book=sheets())
def test_same_bytes_as_writing_every_cell(book):
    assert _book(book, oracle=False) == _book(book, oracle=True)


def test_same_bytes_past_a_block_of_rows_with_wrapped_text_and_a_string_used_again():
    cols = [Col("乡镇", "t"), Col("户主姓名", "n"), Col("说明", "x", width=12), Col("概率", "p", "percent")]
    data = [
        {"t": "甲镇" if i % 3 else None, "n": f"户{i % 7}", "x": "很长的说明文字" * (i % 4), "p": i / 97}
        for i in range(70)
    ]
    data[2]["p"], data[3]["p"] = 0.0, -0.0  # equal, one written "0" and the other "-0"
    data[40] = {}  # a row with no cell
    book = [("表", cols, data), ("表二", cols[:2], data[:5])]
    assert _book(book, oracle=False) == _book(book, oracle=True)


def test_same_bytes_where_a_later_block_of_16_rows_starts_with_another_column():
    cols = [Col("户主姓名", "a"), Col("b", "b"), Col("c", "c")]
    data = [{"a": "x"} for _ in range(30)]
    data[15] = {"c": "y"}  # sheet row 16 is the first of the second block: its span is 3:3, not 1:1
    assert _book([("表", cols, data)], oracle=False) == _book([("表", cols, data)], oracle=True)


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_a_number_excel_cannot_hold_is_refused_as_before(number):
    book = [("表", [Col("户主姓名", "n"), Col("概率", "p", "percent")], [{"n": "张三", "p": number}])]
    with pytest.raises(TypeError):
        _book(book, oracle=True)
    with pytest.raises(TypeError, match="NAN/INF"):
        _book(book, oracle=False)


def test_the_comparison_sees_a_cell_written_otherwise(monkeypatch):
    cols = [Col("户主姓名", "n"), Col("金额", "a", "amount")]
    book = [("表", cols, [{"n": "张三", "a": 12.5}, {"n": "李四", "a": 3}])]
    right = _book(book, oracle=True)
    assert _book(book, oracle=False) == right
    spec = Writer._spec
    monkeypatch.setattr(
        Writer, "_spec", lambda self, kind, v, measure: spec(self, "text" if kind == "amount" else kind, v, measure)
    )
    assert _book(book, oracle=False) != right


def test_values_equal_but_written_otherwise_stay_apart():
    """A column of one kind is keyed by its values only where equal values are written alike: not aware datetimes
    (the same instant at two offsets), not floats (0.0 and -0.0)."""
    utc, beijing = (
        datetime(2026, 1, 1, 4, tzinfo=UTC),
        datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=8))),
    )
    assert utc == beijing
    assert xlsx_table.column_of([utc, beijing], repr).values == [utc, beijing]
    assert xlsx_table.column_of([0.0, -0.0], repr).ids.tolist() == [0, 1]
    assert xlsx_table.column_of(["甲", None, "甲", 1, 1], repr).ids.tolist() == [0, -1, 0, 1, 1]
