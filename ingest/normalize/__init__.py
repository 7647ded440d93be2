"""Vectorised value normalisers: raw strings as read from CSV/XLSX in, typed values plus reasons out.

Every normaliser takes a ``pl.Series`` of raw strings (nulls allowed) and returns a ``pl.DataFrame`` of the same
height with three columns:

- ``value``: the typed, normalised value, or null;
- ``problem``: a Chinese reason when the raw value is present but unusable (then ``value`` is null), else null;
- ``note``: a Chinese note when something was repaired or converted and should be reported, not rejected.

A blank or whitespace-only raw value gives null value, null problem: the caller decides about "required".
Everything is polars expressions: no Python loop or ``map_elements`` over rows (millions of rows per run).
The scalar reference for ID numbers is ``ingest.idnumber``; the two agree word for word.

Modules: ``frames`` (what the normalisers share), ``ids`` (ID numbers), ``numbers`` (dates, amounts, integers),
``codes`` (yes/no, codes, divisions, free text); ``normalize_column`` here picks one by the contract's type.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from fangfanpin.data_contracts import Column
from fangfanpin.ingest.normalize.codes import clean_text, parse_code, parse_division, parse_yesno
from fangfanpin.ingest.normalize.ids import normalize_id
from fangfanpin.ingest.normalize.numbers import parse_amount, parse_date, parse_int

__all__ = [
    "normalize_id",
    "parse_date",
    "parse_amount",
    "parse_int",
    "parse_yesno",
    "parse_code",
    "parse_division",
    "clean_text",
    "normalize_column",
]


def normalize_column(
    raw: pl.Series, column: Column, data_date: date, known_counties: frozenset[str] | None = None
) -> pl.DataFrame:
    """Normalise one column by its contract type (``data_contracts.Column``).

    Each distinct raw value is normalised once and the results joined back: codes, dates and yes/no repeat millions
    of times in a roster. ID numbers, free text and amounts go straight through: mostly distinct, or so cheap to
    clean that the join would cost more.
    """
    if raw.len() < 1_000 or column.type in ("id", "text", "amount"):  # mostly distinct, or cheap: a join costs more
        return _normalize_values(raw, column, data_date, known_counties)
    key = "__distinct"
    raw = raw.cast(pl.Utf8).rename(key)
    distinct = raw.unique()
    results = _normalize_values(distinct.rename("raw"), column, data_date, known_counties).with_columns(distinct)
    return raw.to_frame().join(results, on=key, how="left", nulls_equal=True, maintain_order="left").drop(key)


def _normalize_values(
    raw: pl.Series, column: Column, data_date: date, known_counties: frozenset[str] | None = None
) -> pl.DataFrame:
    t = column.type
    if t == "text":
        out = clean_text(raw)
    elif t == "code":
        out = parse_code(raw, tuple(column.values), multi=column.multi)
    elif t == "date":
        out = parse_date(raw, data_date, after_delivery=column.after_delivery)
    elif t == "amount":
        out = parse_amount(raw, signed=column.signed)
    elif t == "int":
        out = parse_int(raw, min=column.min, max=column.max)
    elif t == "yesno":
        out = parse_yesno(raw)
    elif t == "id":
        out = normalize_id(raw, data_date, known_counties)
    elif t == "division":
        out = parse_division(raw)
    else:
        raise ValueError(f"column {column.name}: unknown type {t!r}")
    return out
