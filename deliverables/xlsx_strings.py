"""A workbook's shared-string table (xl/sharedStrings.xml) written at once: the bytes xlsxwriter writes a string at a
time.

xlsxwriter writes each string with three regular-expression passes and a few calls; a county's workbook at a million
households shares over a hundred thousand strings. Here the strings that need none of xlsxwriter's care (a control
character, U+FFFE, U+FFFF or a literal ``_xHHHH_`` to escape, white space at either end to preserve, a text that
looks like rich text) are escaped by polars at once, and only those few go through xlsxwriter's own ``_write_si``.

    wb = StringsAtOnceWorkbook(buf, options)   # an xlsxwriter Workbook in every other way
"""

from __future__ import annotations

from io import StringIO

import polars as pl
import xlsxwriter
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings

# What a string written plainly never holds (xlsxwriter escapes U+FFFE and U+FFFF as control characters). A letter,
# number, punctuation mark or symbol at either end is no white space to Python's \s either, so anything else there
# goes the careful way (more than needs to, never less).
_NEEDS_CARE = (
    r"[\x00-\x08\x0b-\x1f\x{FFFE}\x{FFFF}]|_x[0-9a-fA-F]{4}_|^<r>|^[^\p{L}\p{N}\p{P}\p{S}]|[^\p{L}\p{N}\p{P}\p{S}]$"
)


def shared_strings_xml(strings: list[str]) -> str:
    """The ``<si>`` elements of ``strings``, as xlsxwriter's ``SharedStrings._write_sst_strings`` writes them.

    >>> shared_strings_xml(["甲&乙", " 前有空格", "<r>"])
    '<si><t>甲&amp;乙</t></si><si><t xml:space="preserve"> 前有空格</t></si><si><t>&lt;r&gt;</t></si>'
    """
    if not strings:
        return ""
    series = pl.Series(strings, dtype=pl.Utf8)
    plain = (
        series.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
    written = ("<si><t>" + plain + "</t></si>").to_list()
    for i in series.str.contains(_NEEDS_CARE).arg_true().to_list():
        written[i] = _careful(strings[i])
    return "".join(written)


def _careful(string: str) -> str:
    """One string through xlsxwriter's own writer."""
    writer = SharedStrings()
    writer.fh = StringIO()
    writer._write_si(string)
    return writer.fh.getvalue()


class _StringsAtOnce(SharedStrings):
    def _write_sst_strings(self) -> None:
        self.fh.write(shared_strings_xml(self.string_table.string_array))


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:  # xlsxwriter's, with the table written at once
        sst = _StringsAtOnce()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class StringsAtOnceWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter Workbook whose shared-string table is written at once (``shared_strings_xml``)."""

    def _get_packager(self) -> Packager:
        return _Packager()
