"""Split CSV text into records so that every physical line is read or quarantined with its reason.

Every physical line is first classified with polars string functions (no Python loop over rows):

- a blank line is no record (it keeps its row number, as a spreadsheet shows it);
- a line without quotes, or whose quotes are well formed (RFC 4180), is a record on its own, and its field count is
  known without parsing it;
- any other line opens a quoted field that ends on a later line (a cell with a line break), or is damaged. Only these
  lines go through a small tokenizer in Python, which joins the following lines while the quote stays open.

A clean file then goes to polars whole, in one pass; otherwise polars parses just the one-line records. A record whose
field count differs from the header's is quarantined ("字段数与表头不符"), never loaded with shifted or truncated
values: an unquoted comma inside a name or an amount (``1,234.50``) is the usual cause, and it cannot be told apart
from a trailing comma when the row's last cell is empty. Only a record that stops short of the header's blank last
columns fits. A quote inside an unquoted field (张"三) is read as it stands, as spreadsheets do.

An unterminated quote costs its own line only. The tokenizer joins lines as RFC 4180 says, so a valid file is read
exactly as a spreadsheet reads it, but it accepts a joined record only when it fits the header, within a few lines
and without a quote read as it stands; otherwise the opening line alone is quarantined and reading goes on after
it. Two unterminated quotes a few lines apart can still pair into one valid record, as in any CSV reader: there the
file itself is ambiguous.

Row numbers are what a person sees in a spreadsheet: the header's row, then one per record or blank line (a record
with a quoted line break is one row).

    >>> records = split_records("t.csv", '姓名,金额\\n张三,"1,234.50"\\n李四,1,234.50\\n'.encode())
    >>> records.headers, records.frame.rows(), [(i["row"], i["problem"][:8]) for i in records.issues]
    (['姓名', '金额'], [('张三', '1,234.50', 2)], [(3, '字段数与表头不符')])
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import polars as pl

from fangfanpin.schema import ROW

QUOTED = r'"(?:[^"]|"")*"'
WELL_FORMED = rf'^(?:{QUOTED}|[^",]*)(?:,(?:{QUOTED}|[^",]*))*$'
MAX_RECORD_LINES = 20  # a quoted cell with line breaks (an address, a note) spans a few lines, never a page
MAX_RECORD_CHARS = 10_000  # the longest legitimate field (ingest.damage.MAX_CELL_CHARS)
RAW_CHARS = 200  # how much of a quarantined line the quarantine keeps
_SPARE_SEPARATORS = (0x1F, 0x1E, 0x1D, 0x1C, 0x01, 0x02, 0x03, 0x04)

P_FIELDS = (
    "字段数与表头不符（该行有 {fields} 个字段，表头有 {header} 列；常见原因是姓名或金额中有未加引号的逗号，"
    "如 1,234.50），该行未载入"
)
P_QUOTE = "引号不配对（该行的引号没有闭合，或闭合引号后还有其他字符），该行未载入，其后的行照常读取"
P_CUT = "文件在第 {row} 行中途截断（该行只有 {fields} 个字段，表头有 {header} 列），该行未载入"
P_HEADER_AGAIN = "该行与表头相同（疑似多个文件首尾拼接），未作为数据载入"
N_LITERAL_QUOTE = '该行有字段中间带引号（如 张"三），已按原样读取'


class RecordError(Exception):
    """The file has no readable header, too many columns, or took too long; the message is Chinese."""


@dataclass
class CsvRecords:
    headers: list[str]
    frame: pl.DataFrame  # c0 … c{len(headers)-1} (Utf8) and _row, in file order
    issues: list[dict] = field(default_factory=list)  # records not loaded: file, row, column, raw_value, problem
    notes: list[dict] = field(default_factory=list)  # records loaded with a remark, same shape
    last_row: int = 1  # the row number of the last physical line
    remarks: list[str] = field(default_factory=list)  # on the file as a whole

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.issues)


def split_records(name: str, data: bytes, *, max_columns: int = 1000, deadline: float | None = None) -> CsvRecords:
    """The records of ``data`` (UTF-8, lines ending in LF or CRLF). Raises UnicodeDecodeError when ``data`` is not
    UTF-8 (the caller then decides the encoding) and RecordError when the file cannot be read at all."""
    text = physical_lines(data)
    remarks = []
    text, boms = _strip_line_boms(text)
    if boms:
        remarks.append(f"文件 {name} 中间有 {boms:,} 处字节顺序标记（BOM，多个文件首尾拼接所致），已从所在行去除")
    blank = _blank(text)
    whole, fields = _classify(text)
    assembler = _Assembler(name, text, whole, deadline)
    present = (~blank).arg_true()
    if len(present) == 0:
        raise RecordError(f"文件 {name} 没有表头行")
    head_at = int(present[0])
    headers, head_end, _ = assembler.assemble(head_at, width=None)
    if headers is None:
        raise RecordError(f"文件 {name} 的表头行引号不配对，无法读取")
    if len(headers) > max_columns:
        raise RecordError(f"文件 {name} 的表头有 {len(headers):,} 列，超过上限 {max_columns:,} 列，整个文件未载入")
    width = len(headers)
    least = width - _trailing_blank(headers)
    multi_line = assembler.assemble_rest(head_end + 1, width, least)
    consumed = assembler.continuation_lines(len(text))
    rows = (pl.int_range(1, len(text) + 1, eager=True, dtype=pl.Int64) - consumed.cast(pl.Int64).cum_sum()).alias(ROW)
    after_header = pl.int_range(0, len(text), eager=True) > head_end
    header_again = text == text[head_at]
    record = whole & ~blank & ~consumed & after_header & ~header_again
    fits = fields.is_between(least, width) | ~record
    if not boms and whole.all() and fits.all() and not header_again.filter(after_header).any():
        frame, over, again = _parse_whole(data, record, rows, width), [], pl.DataFrame({ROW: [], "text": []})
    else:
        singles = pl.DataFrame({"text": text, "fields": fields, ROW: rows}).filter(record)
        frame, over = _parse_lines(singles, width, least)
        again = pl.DataFrame({ROW: rows, "text": text}).filter(whole & after_header & header_again & ~consumed)
    placed = assembler.place(multi_line, rows, width, least)
    issues = assembler.issues + [_issue(name, r, t, P_HEADER_AGAIN) for r, t in again.select(ROW, "text").iter_rows()]
    issues += [_issue(name, r, t, P_FIELDS.format(fields=f, header=width)) for r, t, f in over]
    if placed:
        frame = pl.concat([frame, _frame_of(placed, width)], how="vertical").sort(ROW)
    last_row = int(rows[-1]) if len(rows) else 1
    if not data.endswith(b"\n"):
        issues = [_cut_short(i, width) if i["row"] == last_row else i for i in issues]
    return CsvRecords(headers, frame, sorted(issues, key=lambda i: i["row"]), assembler.notes, last_row, remarks)


def physical_lines(data: bytes) -> pl.Series:
    """One string per physical line, split on LF, the CR of a CRLF dropped (an empty line is null)."""
    spare = next((bytes([b]) for b in _SPARE_SEPARATORS if bytes([b]) not in data), None)
    if spare is None:  # only a file full of control bytes lacks them all: split it in Python
        split = data.decode("utf-8").split("\n")
        return pl.Series(
            "line",
            [line.removesuffix("\r") or None for line in split[: -1 if split[-1] == "" else None]],
            dtype=pl.Utf8,
        )
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            separator=spare.decode(),
            quote_char=None,
            infer_schema=False,
            raise_if_empty=False,
            new_columns=["line"],
        )
    except pl.exceptions.PolarsError as error:
        if "utf-8" in str(error).lower() or "utf8" in str(error).lower():
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "not UTF-8") from None
        raise
    return frame.get_column("line") if frame.width else pl.Series("line", [], dtype=pl.Utf8)


def _blank(text: pl.Series) -> pl.Series:
    """Lines of nothing but spaces and commas: an empty spreadsheet row, no record (a spreadsheet reader skips it
    too). Inside a quoted cell such a line is text like any other."""
    return text.is_null() | text.str.contains(r"^[\s,]*$").fill_null(True)


def _strip_line_boms(text: pl.Series) -> tuple[pl.Series, int]:
    """A byte-order mark at the start of a line (a second file appended to the first) is no part of the value."""
    marked = text.str.starts_with("\ufeff").fill_null(False)
    count = int(marked.sum())
    if not count:
        return text, 0
    at = marked.arg_true()
    return text.scatter(at, text.gather(at).str.strip_prefix("\ufeff")), count


def _classify(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(whole: blank or a record on its own, fields: its field count, null where not whole)."""
    fields = text.str.count_matches(",", literal=True) + 1
    quoted = text.str.contains('"', literal=True).fill_null(False)
    whole = ~quoted
    if quoted.any():
        at = quoted.arg_true()
        some = text.gather(at)
        well = some.str.contains(WELL_FORMED)
        whole = whole.scatter(at, well)
        some_fields = some.str.replace_all(QUOTED, "").str.count_matches(",", literal=True) + 1
        fields = fields.scatter(at, pl.select(pl.when(well).then(some_fields)).to_series())
    return whole, fields


def _trailing_blank(headers: list[str]) -> int:
    blank = 0
    for header in reversed(headers):
        if header.strip():
            break
        blank += 1
    return blank


class _Assembler:
    """The records that are not one line on their own, put together from consecutive lines in Python."""

    def __init__(self, name: str, text: pl.Series, whole: pl.Series, deadline: float | None):
        self.name, self.text, self.deadline = name, text, deadline
        self.irregular = ~whole  # lines that are neither blank nor a record on their own
        self.issues: list[dict] = []
        self.notes: list[dict] = []
        self.spans: list[tuple[int, int]] = []  # (first, last) line of each record that spans lines

    def assemble(self, start: int, width: int | None, least: int = 0) -> tuple[list[str] | None, int, bool]:
        """(fields, last line, a quote read as it stands) of the record starting at line ``start``; fields None when
        it cannot be read (a quote left open, or text after a closing quote). Lines are joined only into a record
        that fits the header (``least`` to ``width`` fields): a quote that closes on a later line into a record that
        does not fit, or only with a quote read as it stands, took those lines by mistake."""
        record, end = self.text[start] or "", start
        while True:
            fields, status, literal = _tokenize(record)
            if status == "ok" and end > start and width is not None and (literal or not least <= len(fields) <= width):
                return None, start, False
            if status == "ok":
                if end > start:
                    self.spans.append((start, end))
                return fields, end, literal
            following = end + 1
            if (
                status == "bad"
                or following >= len(self.text)
                or following - start >= MAX_RECORD_LINES
                or len(record) > MAX_RECORD_CHARS
            ):
                return None, start, False
            record, end = record + "\n" + (self.text[following] or ""), following

    def assemble_rest(self, begin: int, width: int, least: int) -> list[tuple[int, list[str] | None, bool]]:
        """(first line, fields or None, literal quote) of every record from line ``begin`` on that is not a line on
        its own."""
        starts = self.irregular.arg_true()
        found, covered = [], -1
        for start in starts.filter(starts >= begin).to_list():
            if start <= covered:
                continue
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise RecordError(f"文件 {self.name} 读取超过时间上限（引号损坏的行过多），整个文件未载入")
            fields, covered, literal = self.assemble(start, width, least)
            found.append((start, fields, literal))
        return found

    def continuation_lines(self, n: int) -> pl.Series:
        """True for each line that continues a record begun on an earlier line."""
        lines = [i for first, last in self.spans for i in range(first + 1, last + 1)]
        mask = pl.repeat(False, n, eager=True, dtype=pl.Boolean)
        return mask.scatter(lines, True) if lines else mask

    def place(self, found, rows: pl.Series, width: int, least: int) -> list[tuple[int, list[str | None]]]:
        """Row numbers for the assembled records; those that cannot be loaded become issues."""
        placed = []
        for start, fields, literal in found:
            row, raw = int(rows[start]), self.text[start]
            if fields is None:
                self.issues.append(_issue(self.name, row, raw, P_QUOTE))
            elif not least <= len(fields) <= width:
                self.issues.append(_issue(self.name, row, raw, P_FIELDS.format(fields=len(fields), header=width)))
            else:
                if literal:
                    self.notes.append(
                        {"file": self.name, "row": row, "column": None, "raw_value": None, "problem": N_LITERAL_QUOTE}
                    )
                placed.append((row, (fields + [None] * width)[:width]))
        return placed


def _tokenize(record: str) -> tuple[list[str | None], str, bool]:
    """RFC 4180 fields of one record: (fields, "ok" | "open" | "bad", whether a quote stood inside an unquoted
    field, read as it stands)."""
    fields: list[str] = []
    i, n, literal = 0, len(record), False
    while True:
        if i < n and record[i] == '"':
            parts, j = [], i + 1
            while True:
                k = record.find('"', j)
                if k < 0:
                    return fields, "open", literal
                if record.startswith('""', k):
                    parts.append(record[j : k + 1])
                    j = k + 2
                    continue
                parts.append(record[j:k])
                i = k + 1
                break
            fields.append("".join(parts))
            if i == n:
                return fields, "ok", literal
            if record[i] != ",":
                return fields, "bad", literal
            i += 1
            continue
        k = record.find(",", i)
        value = record[i:] if k < 0 else record[i:k]
        if "\n" in value:  # a line break outside quotes: these lines are not one record
            return fields, "bad", literal
        literal = literal or '"' in value
        fields.append(value or None)  # as polars reads an empty unquoted field
        if k < 0:
            return fields, "ok", literal
        i = k + 1


def _parse_whole(data: bytes, record: pl.Series, rows: pl.Series, width: int) -> pl.DataFrame:
    """A clean file in one polars pass: one parsed row per physical line, of which the records are kept."""
    parsed = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        schema={f"c{i}": pl.Utf8 for i in range(width)},
        quote_char='"',
        raise_if_empty=False,
        missing_columns="insert",
    )
    return parsed.filter(record).with_columns(rows.filter(record))


def _parse_lines(singles: pl.DataFrame, width: int, least: int) -> tuple[pl.DataFrame, list[tuple]]:
    """The one-line records (text, fields, _row) parsed by polars. Returns (c0… and _row of those that fit the
    header, [(row, text, fields)] of those that do not)."""
    fit = pl.col("fields").is_between(least, width)
    fitting = singles.filter(fit)
    parsed = pl.read_csv(
        io.BytesIO(_joined(fitting.get_column("text"))),
        has_header=False,
        quote_char='"',
        schema={f"c{i}": pl.Utf8 for i in range(width)},
        raise_if_empty=False,
        missing_columns="insert",
    ).with_columns(fitting.get_column(ROW))
    return parsed, list(singles.filter(~fit).select(ROW, "text", "fields").iter_rows())


def _joined(text: pl.Series) -> bytes:
    """The lines again as one CSV text, written by polars (no Python string per line)."""
    buffer = io.BytesIO()
    pl.DataFrame({"l": text}).write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()


def _frame_of(records: list[tuple[int, list[str | None]]], width: int) -> pl.DataFrame:
    columns = {f"c{i}": pl.Series([r[1][i] for r in records], dtype=pl.Utf8) for i in range(width)}
    return pl.DataFrame(columns).with_columns(pl.Series(ROW, [r[0] for r in records], dtype=pl.Int64))


def _cut_short(issue: dict, width: int) -> dict:
    """The last line of a file without a final line break, unreadable or short: the file was cut off there."""
    fields = len(_tokenize(issue["raw_value"] or "")[0])
    if fields >= width and issue["problem"] != P_QUOTE:
        return issue
    return issue | {"problem": P_CUT.format(row=issue["row"], fields=fields, header=width)}


def _issue(name: str, row: int, text: str | None, problem: str) -> dict:
    text = text or ""
    raw = text if len(text) <= RAW_CHARS else text[:RAW_CHARS] + f"…（共 {len(text):,} 个字符）"
    return {"file": name, "row": row, "column": None, "raw_value": raw, "problem": problem}
