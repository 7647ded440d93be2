"""The reader loses no row and alters none, whatever the file looks like (hypothesis).

Random valid rows are written as a department's tools write them: UTF-8, UTF-8 with BOM or GB18030; LF, CRLF, bare
CR or a mix per line; minimal or full quoting, with commas, quotes and line breaks inside quoted cells. Then damage
is injected row by row as it really arrives: an unquoted comma (``1,234.50``), a missing field, an unterminated quote,
a stray CR inside a cell, a quote inside an unquoted cell, a byte-order mark at the start of a line, blank lines and
the header repeated (two files joined). Read back with ``ingest.read.read_file``:

- every row that was loaded equals the row written, cell for cell;
- every row whose damage leaves it readable is loaded; every other one is quarantined with its text;
- rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from fangfanpin.ingest.read import read_file

pytestmark = pytest.mark.unit

HEADERS = ["编号", "姓名", "金额", "备注"]
READABLE = {"none", "stray_quote", "bom", "blank_after", "header_after"}
UNREADABLE = {"extra_comma", "missing_field", "open_quote", "cr_inside"}
TEXT = st.text(alphabet=st.sampled_from(list("张王李赵乌日根嘎查·阿卜杜 abcXYZ0123456789-_.")), max_size=8)
QUOTABLE = st.text(alphabet=st.sampled_from(list('张王李赵 ab01,"\n·')), max_size=8)


@st.composite
def deliveries(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    damage = [
        draw(st.sampled_from(sorted(READABLE | UNREADABLE))) if draw(st.integers(0, 3)) == 0 else "none"
        for _ in range(n)
    ]
    if damage.count("open_quote") > 1:  # two open quotes can pair into one valid record: ambiguous for any reader
        first = damage.index("open_quote")
        damage = [d if d != "open_quote" or i == first else "none" for i, d in enumerate(damage)]
    rows = []
    for i in range(n):
        # a damaged row's own cells are plain, so that only the damage decides what it becomes; beside an open quote
        # every cell is plain, since a later quote could close it into a valid record
        plain = (
            damage[i] not in ("none", "bom", "blank_after", "header_after")
            or "open_quote" in damage
            or draw(st.booleans())
        )
        cells = [draw(TEXT if plain else QUOTABLE) for _ in HEADERS[1:]]
        rows.append([f"r{i:03d}", *cells])
    return {
        "rows": rows,
        "damage": damage,
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])),
        "endings": draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"])),
        "quote_all": draw(st.booleans()),
        "final_break": draw(st.booleans()),
        "mixed": [draw(st.sampled_from(["\n", "\r\n", "\r"])) for _ in range(3 * n + 3)],
    }


def _cell(value: str, quote_all: bool) -> str:
    if quote_all or any(c in value for c in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _line(row: list[str], damage: str, quote_all: bool) -> str:
    """One record as text, with its damage; the damaged cell is the second (姓名), rewritten unquoted."""
    cells = [_cell(v, quote_all) for v in row]
    if damage == "extra_comma":
        cells[2] = "1,234.50"
    elif damage == "missing_field":
        cells = cells[:-1]
    elif damage == "open_quote":
        cells[1] = '"' + cells[1]
    elif damage == "cr_inside":
        cells[1] = "张\r三"
    elif damage == "stray_quote":
        cells[1] = '张"三'
    return ",".join(cells)


def _expected(row: list[str], damage: str) -> list[str]:
    return [row[0], '张"三', *row[2:]] if damage == "stray_quote" else row


def _write(folder: Path, spec: dict) -> Path:
    lines = [",".join(HEADERS)]
    for row, damage in zip(spec["rows"], spec["damage"]):
        text = _line(row, damage, spec["quote_all"])
        lines.append(("\ufeff" + text) if damage == "bom" else text)
        if damage == "blank_after":
            lines.append("")
        elif damage == "header_after":
            lines.append(",".join(HEADERS))
    if spec["endings"] == "mixed":
        body = "".join(line + end for line, end in zip(lines, spec["mixed"]))
    else:
        body = spec["endings"].join(lines) + spec["endings"]
    if not spec["final_break"]:
        body = body.rstrip("\r\n")
    path = folder / "roster.csv"
    path.write_bytes(body.encode(spec["encoding"]))
    return path


def _blank(value):
    return None if value in (None, "") else value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=deliveries())
def test_every_row_is_loaded_as_written_or_quarantined(tmp_path, spec):
    path = _write(tmp_path, spec)
    note(repr(path.read_bytes()))
    raw = read_file(path)
    assert raw.headers == HEADERS
    written = {row[0]: (row, damage) for row, damage in zip(spec["rows"], spec["damage"])}
    loaded = {}
    for values in raw.frame.drop("_row").iter_rows():
        assert values[0] in written, values
        assert values[0] not in loaded, values
        loaded[values[0]] = values
    for key, (row, damage) in written.items():
        if damage in READABLE:
            assert key in loaded, (key, damage, raw.dropped)
            assert [_blank(v) for v in loaded[key]] == [_blank(v) for v in _expected(row, damage)], (key, damage)
        else:
            assert key not in loaded, (key, damage)
            assert any(key in (issue["raw_value"] or "") for issue in raw.dropped), (key, damage, raw.dropped)
    headers_again = sum(d == "header_after" for d in spec["damage"])
    split_rows = sum(d == "cr_inside" for d in spec["damage"])
    assert raw.rows_read == raw.frame.height + len(raw.dropped)
    assert len(raw.dropped) == sum(d in UNREADABLE for d in spec["damage"]) + headers_again + split_rows
