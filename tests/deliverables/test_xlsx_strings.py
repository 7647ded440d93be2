"""The shared-string table written at once (deliverables/xlsx_strings.py) is, to the byte, what xlsxwriter writes a
string at a time; so is a whole workbook written with it."""

from datetime import date
from io import StringIO
from types import SimpleNamespace

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.sharedstrings import SharedStrings

from fangfanpin.deliverables import xlsx
from fangfanpin.deliverables.xlsx_strings import shared_strings_xml

pytestmark = pytest.mark.unit

# what takes xlsxwriter's care, or might be taken for it: white space of every kind at either end (Python's \s and
# what only looks like space), control characters, a literal escape, rich-text look-alikes, XML's own characters
EDGES = ["", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u180e", "\u2000",
         "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "\ufffe", "\uffff", "\x00", "\x7f", "𠀀"]  # fmt: skip
PIECES = st.sampled_from(
    [*EDGES, "_x0041_", "_x00e9_", "_xZZZZ_", "<r>", "</r>", "<r>甲</r>", "&", "<", ">", '"', "'", "甲", "a", "1", "。"]
)
STRING = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.lists(PIECES, max_size=5).map("".join),
)


def _one_at_a_time(strings: list[str]) -> str:
    writer = SharedStrings()
    writer.fh, writer.string_table = StringIO(), SimpleNamespace(string_array=strings)
    writer._write_sst_strings()
    return writer.fh.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.lists(STRING, max_size=20))
def test_the_table_written_at_once_is_xlsxwriters(strings):
    assert shared_strings_xml(strings) == _one_at_a_time(strings)


def test_every_edge_case_alone_and_around_text():
    strings = [f"{a}{mid}{b}" for a in EDGES for b in EDGES for mid in ("", "甲", "<r>乙</r>")]
    assert shared_strings_xml(strings) == _one_at_a_time(strings)


def test_a_workbook_is_the_same_bytes(monkeypatch):
    cols = [xlsx.Col("户主姓名", "name"), xlsx.Col("说明", "note", width=30), xlsx.Col("金额", "amount", "amount")]
    data = [{"name": f" 张{i % 7}", "note": "_x0041_ & <说明>\n" * (i % 3), "amount": i} for i in range(40)]

    def book() -> bytes:
        w = xlsx.Writer(date(2026, 11, 20))
        w.sheet("表", cols, data)
        return w.close()

    at_once = book()
    monkeypatch.setattr(xlsx, "StringsAtOnceWorkbook", xlsxwriter.Workbook)
    assert book() == at_once
