"""Damaged cells: bytes or values that no normaliser should ever see, found right after reading a file.

A cell is damaged when it holds a NUL byte, a byte that could not be decoded (U+FFFD after a lenient decode), an
Excel formula without a saved result (found by the XLSX reader), or more characters than any field of any feed can hold (a broken export, or a
file that is not what its name says). Such a row is quarantined whole, with the file, row, column and reason: loading
it would load a corrupted value without anyone knowing.

Only the checks that the reader asked for run (``RawFile.checks``), so an ordinary file costs nothing here.
"""

from __future__ import annotations

import polars as pl

from fangfanpin.ingest.read import ROW, RawFile

MAX_CELL_CHARS = 10_000  # the longest legitimate field (a 救助原因, an address) is a few hundred characters
RAW_VALUE_CHARS = 200  # how much of a damaged value the quarantine table keeps

P_NUL = "含有 NUL 字节（\\x00），疑似文件损坏，该行未载入"
P_UNDECODABLE = "含有无法按文件编码解码的字节（与文件其余部分的编码不一致），该行未载入"


def _cell_problem(check: str, value: pl.Expr) -> pl.Expr:
    if check == "nul":
        return pl.when(value.str.contains("\x00", literal=True)).then(pl.lit(P_NUL))
    if check == "undecodable":
        return pl.when(value.str.contains("\ufffd", literal=True)).then(pl.lit(P_UNDECODABLE))
    if check == "long":
        chars = value.str.len_chars()
        return pl.when(chars > MAX_CELL_CHARS).then(
            pl.format("长度 {} 个字符，超过上限 {}，疑似文件损坏，该行未载入", chars, pl.lit(f"{MAX_CELL_CHARS:,}"))
        )
    raise ValueError(f"unknown damage check {check!r}")


def split_damaged_rows(raw: RawFile) -> tuple[RawFile, list[dict]]:
    """Take the rows with a damaged cell out of ``raw.frame``; return the rest and one issue per damaged cell
    (``file``, ``row``, ``column``, ``raw_value``, ``problem``). Formula cells come from the reader itself."""
    issues = [dict(issue) for issue in raw.formula_cells]
    columns = [c for c in raw.frame.columns if c != ROW]
    checks = [c for c in ("nul", "undecodable", "long") if c in raw.checks]
    if checks and raw.frame.height and columns:
        longest = raw.frame.select(pl.col(columns).str.len_bytes().max()).row(0)  # one pass; chars ≤ bytes
        for i, name in enumerate(columns):
            wanted = [c for c in checks if c != "long" or (longest[i] or 0) > MAX_CELL_CHARS]
            if not wanted:
                continue
            value = pl.col(name)
            problem = pl.coalesce([_cell_problem(check, value) for check in wanted])
            found = raw.frame.select(pl.col(ROW), value.alias("v"), problem.alias("p")).filter(
                pl.col("p").is_not_null()
            )
            header = raw.headers[i] if i < len(raw.headers) and raw.headers[i] else f"第{i + 1}列"
            issues += [
                {
                    "file": raw.path.name,
                    "row": r,
                    "column": header,
                    "problem": f"「{header}」{p}",
                    "raw_value": _shorten(v),
                }
                for r, v, p in found.iter_rows()
            ]
    if not issues:
        return raw, []
    bad_rows = sorted({issue["row"] for issue in issues})
    raw.frame = raw.frame.filter(~pl.col(ROW).is_in(bad_rows))
    return raw, issues


def _shorten(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "\\x00")
    return value if len(value) <= RAW_VALUE_CHARS else value[:RAW_VALUE_CHARS] + f"…（共 {len(value):,} 个字符）"
