"""Helpers for tests that rearrange generated landing data (copy a delivery, rewrite a file in another format)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import xlsxwriter

from fangfanpin.ingest.read import delivery_dates, read_file


def first_date(landing: Path) -> date:
    return delivery_dates(landing)[0]


def copy_delivery(src_landing: Path, day: date, dst_landing: Path, feeds: list[str] | None = None) -> Path:
    folder = dst_landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for path in (src_landing / day.isoformat()).iterdir():
        if feeds is None or any(path.name.startswith(f + "_") or path.stem == f for f in feeds):
            shutil.copy(path, folder / path.name)
    return folder


def read_text_rows(path: Path) -> list[list[str]]:
    """The rows of a generated delivery file as text, whatever its format."""
    raw = read_file(path)
    return [raw.headers] + [list(r) for r in raw.frame.drop("_row").rows()]


def write_xlsx(rows: list[list[str]], path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    workbook.close()


def write_csv(rows: list[list[str]], path: Path, encoding: str) -> None:
    frame = pl.DataFrame(rows[1:], schema={h: pl.Utf8 for h in rows[0]}, orient="row")
    text = frame.write_csv()
    path.write_bytes(text.encode(encoding))
