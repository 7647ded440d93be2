"""公民身份号码: the vectorised twin of ``ingest.idnumber.validate_with_notes`` (the two agree word for word)."""

from __future__ import annotations

from datetime import date

import polars as pl

from fangfanpin.ingest import idnumber as idn
from fangfanpin.ingest.normalize.frames import _RAW, _S, _WS, _nfkc, _null_if_empty, _result, _utf8


def normalize_id(raw: pl.Series, data_date: date, known_counties: frozenset[str] | None = None) -> pl.DataFrame:
    """公民身份号码 → 18-character Utf8; the vectorised twin of ``ingest.idnumber.validate_with_notes``."""
    raw = _utf8(raw)
    # Nearly every row is already 17 digits + a check character: those need only the checks of a well-formed number.
    # The rest take the full path (cleaning as compact(), 15- and 20-digit forms, format errors).
    tidy = raw.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False)
    if tidy.all():
        return _normalize_tidy_ids(raw, data_date, known_counties)
    if not tidy.any():
        return _normalize_any_ids(raw, data_date, known_counties)
    # The tidy path runs on every row (it is cheaper than splitting the column), the rest are redone by the full path.
    out = _normalize_tidy_ids(raw, data_date, known_counties)
    other_at = tidy.not_().arg_true()
    redone = _normalize_any_ids(raw.gather(other_at), data_date, known_counties)
    return pl.DataFrame([out.get_column(c).scatter(other_at, redone.get_column(c)) for c in out.columns])


def _county_note(i: pl.Expr, known_counties: frozenset[str] | None) -> pl.Expr:
    if known_counties is None:
        return pl.lit(None, dtype=pl.Utf8)
    county = i.str.slice(0, 6)
    return pl.when(~county.is_in(sorted(known_counties))).then(
        pl.concat_str(pl.lit("县级代码"), county, pl.lit("未知或已撤销（仍视为有效）"))
    )


def _check_character(i: pl.Expr) -> pl.Expr:
    # ISO 7064 MOD 11-2 as python-stdnum computes it: (1 - 2 * int(first17, 13)) % 11, reduced mod 11 first.
    check = (23 - 2 * (i.str.slice(0, 17).str.to_integer(base=13, strict=False) % 11)) % 11
    return pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.Utf8))


def _normalize_tidy_ids(raw: pl.Series, data_date: date, known_counties: frozenset[str] | None) -> pl.DataFrame:
    """IDs already of the form 17 digits + check character: checksum, birth date, province."""
    i = pl.col(_S)
    df = pl.LazyFrame({_S: raw}).with_columns(i.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("__born"))
    born = pl.col("__born")
    problem = (
        pl.when(i.str.slice(17, 1) != _check_character(i))
        .then(pl.lit(idn.P_CHECKSUM))
        .when(born.is_null() | (born < idn.MIN_BIRTH_DATE) | (born > data_date))
        .then(pl.lit(idn.P_BIRTH_DATE))
        .when(~i.str.slice(0, 2).is_in(sorted(idn.PROVINCE_CODES)))
        .then(pl.lit(idn.P_PROVINCE))
    )
    return _result(df, i, problem, _county_note(i, known_counties))


def _normalize_any_ids(raw: pl.Series, data_date: date, known_counties: frozenset[str] | None) -> pl.DataFrame:
    dirty = raw.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(True).not_().arg_true()
    s = raw
    if len(dirty):
        d = _nfkc(raw.gather(dirty)).str.replace_all(_WS, "").str.to_uppercase().str.strip_chars_start("'")
        d = pl.select(pl.when(d.str.contains(r"^[0-9]{15}\.0*$")).then(d.str.slice(0, 15)).otherwise(d)).to_series()
        s = raw.scatter(dirty, d)
    df = pl.LazyFrame({_RAW: raw, _S: s})
    s = pl.col(_S)
    df = df.with_columns(_null_if_empty(s).alias(_S))  # blank, or a lone Excel text marker '
    df = df.with_columns(s.str.len_chars().alias("__len"))
    n = pl.col("__len")
    is15 = (n == 15) & s.str.contains(r"^[0-9]{15}$")
    is20 = (n == 20) & s.str.contains(r"^[0-9]{17}[0-9X][0-9]{2}$")
    df = df.with_columns(
        pl.when(is15)
        .then(pl.concat_str(s.str.slice(0, 6), pl.lit("19"), s.str.slice(6)))
        .when(is20)
        .then(s.str.slice(0, 18))
        .otherwise(s)
        .alias("__id"),
        pl.when(is15).then(pl.lit(idn.N_CONVERTED_15)).when(is20).then(pl.lit(idn.N_DISABILITY)).alias("__n1"),
    )
    i = pl.col("__id")
    df = df.with_columns(
        _check_character(i).alias("__check"),
        i.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("__born"),
    )
    df = df.with_columns(pl.when(is15).then(pl.concat_str(i, pl.col("__check"))).otherwise(i).alias("__id"))
    born = pl.col("__born")
    problem = (
        pl.when(s.is_null())
        .then(None)
        .when(s.str.contains(idn.SCIENTIFIC_RE))
        .then(pl.lit(idn.P_SCIENTIFIC))
        .when((n == 15) & ~is15)
        .then(pl.lit(idn.P_FORMAT))
        .when((n == 20) & ~is20)
        .then(pl.lit(idn.P_FORMAT))
        .when(~n.is_in([15, 18, 20]))
        .then(pl.lit(idn.P_LENGTH))
        .when(~i.str.contains(r"^[0-9]{17}[0-9X]$"))
        .then(pl.lit(idn.P_FORMAT))
        .when(i.str.slice(17, 1) != pl.col("__check"))
        .then(pl.lit(idn.P_CHECKSUM))
        .when(born.is_null() | (born < idn.MIN_BIRTH_DATE) | (born > data_date))
        .then(pl.lit(idn.P_BIRTH_DATE))
        .when(~i.str.slice(0, 2).is_in(sorted(idn.PROVINCE_CODES)))
        .then(pl.lit(idn.P_PROVINCE))
    )
    note = _null_if_empty(
        pl.concat_str(pl.col("__n1"), _county_note(i, known_counties), separator="；", ignore_nulls=True)
    )
    return _result(df, i, problem, note)
