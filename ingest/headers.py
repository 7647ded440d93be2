"""Mapping one file's headers onto its feed's contract: headers compare after NFKC without whitespace and without the
marks a form puts on required columns (``*姓名``, ``姓名（必填）``); a missing required column rejects the file; a
repeated header, an unknown column or data under no header is kept aside (``_extra``) and reported, never dropped
silently."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from fangfanpin.data_contracts import Contract
from fangfanpin.ingest.read import ROW, RawFile
from fangfanpin.schema import EXTRA, FILE, FILE_SEQ  # the lineage columns every feed row carries

# The columns a mapped file's rows carry besides the contract's: where each row came from, and what was kept aside.


KEPT_ASIDE = "已另存并报告，不影响载入"
# A required or optional mark before or after a header: *, （必填）, 【必填】, (选填) …, in any order and number.
REQUIRED_MARKS = re.compile(r"^(?:\*|【(?:必填|选填)】)+|(?:\*|\((?:必填|选填|非必填|可选)\)|【(?:必填|选填)】)+$")


def header_key(header: str) -> str:
    """Headers compare after NFKC (full-width brackets and asterisks) with whitespace and required marks removed.

    >>> header_key("* 证件号码（必填）")
    '证件号码'
    >>> header_key("家庭人口 数")
    '家庭人口数'
    """
    return REQUIRED_MARKS.sub("", "".join(unicodedata.normalize("NFKC", header or "").split()))


def map_file(contract: Contract, raw: RawFile, seq: int) -> tuple[pl.DataFrame | None, list[dict], list[dict]]:
    """Map one file's headers onto the contract. Returns (frame of raw strings or None if rejected, quarantine, reports)."""
    name = raw.path.name
    wanted = {header_key(c.header): c for c in contract.columns}
    context = {header_key(h) for h in contract.context_headers}  # a return template's orientation columns
    seen: dict[str, int] = {}
    reports = [{"file": name, "row": None, "column": None, "raw_value": None, "problem": p} for p in raw.problems]
    extras: dict[str, str] = {}
    for i, header in enumerate(raw.headers):
        key = header_key(header)
        column = wanted.get(key)
        if column is not None and column.name not in seen:
            seen[column.name] = i
        elif column is not None:
            reports.append(
                {
                    "file": name,
                    "row": 1,
                    "column": header,
                    "raw_value": None,
                    "problem": f"表头「{header}」重复出现，只使用第一列",
                }
            )
            reports += _duplicate_column_differences(raw, header, seen[column.name], i)
        elif key in context:
            continue
        elif key:
            extras[_unique(header, extras)] = f"c{i}"
            reports.append(
                {
                    "file": name,
                    "row": 1,
                    "column": header,
                    "raw_value": None,
                    "problem": f"未知列「{header}」，{KEPT_ASIDE}",
                }
            )
        elif raw.frame.get_column(f"c{i}").is_not_null().any():  # e.g. the second half of a merged header cell
            extras[_unique(f"第{i + 1}列", extras)] = f"c{i}"
            reports.append(
                {
                    "file": name,
                    "row": 1,
                    "column": f"第{i + 1}列",
                    "raw_value": None,
                    "problem": f"第 {i + 1} 列没有表头但有数据，{KEPT_ASIDE}",
                }
            )
    missing_required = [c for c in contract.required if c.name not in seen]
    if missing_required:
        headers = "、".join(f"「{c.header}」" for c in missing_required)
        # a rejected file loads nothing: its unknown columns are named as a likely cause, not as kept aside
        unknown = [r["column"] for r in reports if r["problem"].endswith(KEPT_ASIDE)]
        reports = [r for r in reports if not r["problem"].endswith(KEPT_ASIDE)]
        hint = "；文件中有未识别的列" + "、".join(f"「{h}」" for h in unknown) + "，请核对表头" if unknown else ""
        problem = f"文件缺少必填列{headers}，整个文件未载入{hint}"
        quarantine = raw.frame.select(
            pl.lit(name).alias("file"),
            pl.col(ROW).alias("row"),
            pl.lit(missing_required[0].header).alias("column"),
            pl.lit(None, pl.Utf8).alias("raw_value"),
            pl.lit(problem).alias("problem"),
        ).to_dicts()
        if not quarantine:
            quarantine = [
                {"file": name, "row": None, "column": missing_required[0].header, "raw_value": None, "problem": problem}
            ]
        return None, quarantine, reports
    for c in contract.columns:
        if c.name not in seen:
            reports.append(
                {
                    "file": name,
                    "row": 1,
                    "column": c.header,
                    "raw_value": None,
                    "problem": f"文件没有「{c.header}」列（非必填），按空值处理",
                }
            )
    columns = [
        (pl.col(f"c{seen[c.name]}") if c.name in seen else pl.lit(None, pl.Utf8)).alias(c.name)
        for c in contract.columns
    ]
    extra = (
        pl.struct([pl.col(src).alias(h) for h, src in extras.items()]).struct.json_encode()
        if extras
        else pl.lit(None, pl.Utf8)
    ).alias(EXTRA)
    frame = raw.frame.select(
        *columns, pl.lit(name).alias(FILE), pl.lit(seq, pl.Int64).alias(FILE_SEQ), pl.col(ROW), extra
    )
    return frame, [], reports


def without_unanswered_rows(contract: Contract, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """A return template's rows whose only filled cells are the ones it pre-filled were not answered: they are
    not records (like blank lines), and are left out; returns (the answered rows, how many were left out)."""
    answers = [c.name for c in contract.columns if c.name not in contract.prefilled]
    if not contract.prefilled or frame.height == 0:
        return frame, 0
    answered = pl.any_horizontal(pl.col(n).str.strip_chars().fill_null("") != "" for n in answers)
    kept = frame.filter(answered)
    return kept, frame.height - kept.height


def _unique(name: str, taken: dict) -> str:
    """``name``, or ``name#2``, ``name#3``... when a column of that name is already kept aside."""
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    return candidate


def _duplicate_column_differences(raw: RawFile, header: str, first: int, again: int) -> list[dict]:
    """Rows where a repeated header's later column holds something else than the column used: reported with the
    value left out, so that nothing is dropped without a word."""
    a, b = pl.col(f"c{first}"), pl.col(f"c{again}")
    differ = raw.frame.filter(b.is_not_null() & (a.is_null() | (a != b)))
    return [
        {
            "file": raw.path.name,
            "row": row,
            "column": header,
            "raw_value": value,
            "problem": f"表头「{header}」重复出现，第 {again + 1} 列的取值与所用的第 {first + 1} 列不同，未采用",
        }
        for row, value in differ.select(ROW, b).iter_rows()
    ]
