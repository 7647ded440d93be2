"""Shared by the normaliser tests: one value through a vectorised normaliser, its output's shape, and agreement
with the scalar ID-number validator (ingest.idnumber)."""

from __future__ import annotations

from datetime import date

import polars as pl

from fangfanpin.ingest import idnumber as idn
from fangfanpin.ingest.normalize import normalize_id

DATA_DATE = date(2026, 11, 23)


def rows(df: pl.DataFrame) -> list[tuple]:
    return list(df.iter_rows())


def one(fn, raw, *args, **kw) -> tuple:
    return rows(fn(pl.Series([raw], dtype=pl.Utf8), *args, **kw))[0]


def check_shape(out: pl.DataFrame, raw: pl.Series, blank: pl.Series | None = None) -> None:
    assert out.columns == ["value", "problem", "note"]
    assert out.height == raw.len()
    s = raw.cast(pl.Utf8)
    if blank is None:
        blank = s.is_null() | (s.str.replace_all(idn.WHITESPACE_CLASS, "") == "")
    present = ~blank
    assert (out["value"].is_null() | out["problem"].is_null()).all(), "a value and a problem at once"
    assert (out["value"].is_not_null() | out["problem"].is_not_null()).filter(present).all(), "no value, no problem"


def scalar(number, data_date=DATA_DATE, known=None) -> tuple:
    if number is None or idn.compact(number) == "":
        return (None, None, None)
    try:
        value, notes = idn.validate_with_notes(number, data_date, known)
    except idn.ValidationError as exc:
        return (None, str(exc), None)
    return (value, None, "；".join(notes) or None)


def assert_agree(numbers: list, known=None) -> None:
    out = normalize_id(pl.Series(numbers, dtype=pl.Utf8), DATA_DATE, known)
    for number, got in zip(numbers, rows(out)):
        assert got == scalar(number, DATA_DATE, known), number
