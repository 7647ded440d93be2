"""The shared-string table written at once (deliverables/xlsx_strings.py) is, to the byte, what xlsxwriter writes a
string at a time; so is a return template written with it."""

from datetime import date
from io import StringIO
from types import SimpleNamespace

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.sharedstrings import SharedStrings

from fangfanpin.data_contracts import load_contract
from fangfanpin.deliverables import return_templates
from fangfanpin.deliverables.return_templates import TEMPLATES, DueTemplate, render_template
from fangfanpin.deliverables.xlsx_strings import shared_strings_xml

pytestmark = pytest.mark.unit

# what takes xlsxwriter's care, or might be taken for it: white space of every kind at either end (Python's \s and
# what only looks like space), control characters, a literal escape, rich-text look-alikes, XML's own characters
EDGES = ["", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u180e", "\u2000",
         "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "\ufffe", "\uffff", "\x00", "\x7f",
         "𠀀"]  # fmt: skip
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


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.feed)
def test_a_return_template_is_the_same_bytes(template, monkeypatch):
    """The templates write on the same workbook (the county workbook's oracle, tests/deliverables/test_xlsx_table.py,
    covers the other user)."""
    keys = {*template.layout, *template.context_keys.values(), *(c.name for c in load_contract(template.feed).columns)}
    due = DueTemplate(template, "t.xlsx", [{k: f"{EDGES[i % len(EDGES)]}{k}&<{i}>" for k in keys} for i in range(30)])

    def book() -> bytes:
        return render_template(due, date(2026, 11, 20), ("因病", "因学"))

    at_once = book()
    monkeypatch.setattr(return_templates, "StringsAtOnceWorkbook", xlsxwriter.Workbook)
    assert book() == at_once
