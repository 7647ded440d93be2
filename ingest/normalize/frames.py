"""What every normaliser shares: the frame of raw and cleaned strings it works on, the three columns it returns
(``value``, ``problem``, ``note``), and the whitespace and NFKC passes, all polars expressions."""

from __future__ import annotations

import polars as pl

from fangfanpin.ingest import idnumber as idn

_WS = idn.WHITESPACE_CLASS
_RAW, _S = "__raw", "__s"


def _utf8(raw: pl.Series) -> pl.Series:
    if raw.dtype == pl.Null:
        return _nulls(len(raw), raw.name)
    return raw if raw.dtype == pl.Utf8 else raw.cast(pl.Utf8)


def _nulls(n: int, name: str = "") -> pl.Series:
    """A Utf8 column of n nulls, built natively (a Python list of millions of None costs seconds)."""
    return pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias(name)


def _nfkc(s: pl.Series) -> pl.Series:
    """NFKC (full-width digits, letters, punctuation and U+3000 to ASCII), only on the rows that need it:
    NFKC over a whole column costs ~10x a regex pass, and most rows are plain ASCII."""
    idx = s.str.contains(r"[^\x00-\x7f]").fill_null(False).arg_true()
    if len(idx) == 0:
        return s
    return s.scatter(idx, s.gather(idx).str.normalize("NFKC"))


def _strip(e: pl.Expr) -> pl.Expr:
    return e.str.replace_all(f"^{_WS}+|{_WS}+$", "")


def _no_ws(e: pl.Expr) -> pl.Expr:
    return e.str.replace_all(_WS, "")


def _null_if_empty(e: pl.Expr) -> pl.Expr:
    return pl.when(e == "").then(None).otherwise(e)


def _result(
    frame: pl.DataFrame | pl.LazyFrame, value: pl.Expr, problem: pl.Expr, note: pl.Expr | None = None
) -> pl.DataFrame:
    """Assemble the three output columns; value is nulled wherever there is a problem. A normaliser's steps stay one
    lazy plan up to here, computed in one pass, not a frame per step."""
    note = pl.lit(None, dtype=pl.Utf8) if note is None else note
    out = frame.lazy().select(
        value.alias("value"), problem.cast(pl.Utf8).alias("problem"), note.cast(pl.Utf8).alias("note")
    )
    return out.with_columns(
        pl.when(pl.col("problem").is_null()).then(pl.col("value")).otherwise(None).alias("value"),
        pl.when(pl.col("problem").is_null()).then(pl.col("note")).otherwise(None).alias("note"),
    ).collect()


def _frame(raw: pl.Series, *, nfkc: bool = True, remove_all_ws: bool = True) -> pl.LazyFrame:
    """Lazy frame with the raw value and a cleaned string ``__s`` (null when blank)."""
    raw = _utf8(raw)
    s = _nfkc(raw) if nfkc else raw
    df = pl.LazyFrame({_RAW: raw, _S: s})
    clean = _no_ws(pl.col(_S)) if remove_all_ws else _strip(pl.col(_S))
    return df.with_columns(_null_if_empty(clean).alias(_S))
