"""Columns from numpy arrays, and the day numbers the generator counts in (days since 1970-01-01, ``NA`` for none)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .history import NA

EPOCH = dt.date(1970, 1, 1)


def _L(labels, idx) -> pl.Series:
    """labels[idx] as a polars string Series (fast, no numpy unicode arrays)."""
    return pl.Series(list(labels), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def _N(s: pl.Series, null_mask) -> pl.Series:
    idx = np.flatnonzero(np.asarray(null_mask, dtype=bool))
    return s.scatter(idx, None) if len(idx) else s


def _W(cond, a: str, b: str) -> pl.Series:
    return pl.Series([b, a], dtype=pl.String).gather(np.asarray(cond, dtype=bool).astype(np.int64))


def _S(*args, dtype=None):
    """pl.Series from a (possibly object, None-holding) array of strings."""
    if len(args) == 2:
        name, vals = args
    else:
        name, vals = "", args[0]
    if isinstance(vals, np.ndarray) and vals.dtype == object:
        vals = vals.tolist()
    return pl.Series(name, vals, dtype=pl.String)


def _d(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _year(day: int) -> int:
    return _d(day).year


def _datecol(a: np.ndarray, name: str) -> pl.Series:
    a = np.asarray(a, np.int64)
    s = pl.Series(name, np.where(a == NA, 0, a).astype(np.int32)).cast(pl.Date)
    return pl.DataFrame({name: s, "m": a == NA}).select(
        pl.when(pl.col("m")).then(None).otherwise(pl.col(name)).alias(name)
    )[name]
