"""Messy values as they really arrive (docs/feeds.md), applied per file, vectorised with polars."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import polars as pl

FULLWIDTH = [chr(0xFF10 + i) for i in range(10)]
DIGITS = [str(i) for i in range(10)]
DATE_FORMATS = ["%Y/%-m/%-d", "%Y%m%d", "%Y年%-m月%-d日"]
ISO = "%Y-%m-%d"


@dataclass(frozen=True)
class MessyRates:
    # ID numbers (per cell)
    id_space: float = 0.005
    id_fullwidth: float = 0.003
    id_lower_x: float = 0.3  # share of IDs ending in X written as x
    id_quote: float = 0.005
    id_15: float = 0.003
    id_20: float = 0.2  # share of disability-assistance IDs written as 20-digit 残疾人证号
    id_scientific: float = 0.002
    id_bad_check: float = 0.001
    unmatched_ids: float = 0.003  # rows whose ID matches nobody (per row)
    # dates
    date_cell: float = 0.01  # per cell: another format
    date_file: float = 0.15  # per file: a non-ISO format for the whole file
    # amounts
    amount_thousands: float = 0.01
    amount_yuan: float = 0.01
    amount_blank: float = 0.005
    # categorical / yes-no
    cat_space: float = 0.01
    cat_fullwidth: float = 0.5  # share of multi-value cells using a full-width comma
    yesno_file: float = 0.2  # per file: Y/N or 1/0 instead of 是/否
    yesno_cell: float = 0.005
    # rows and columns
    duplicate_rows: float = 0.005
    extra_column: float = 0.05  # per file: an unknown 备注 column
    # formats (per file)
    enc_utf8: float = 0.4
    enc_bom: float = 0.2
    enc_gb18030: float = 0.4
    xlsx: float = 0.08

    @classmethod
    def none(cls) -> MessyRates:
        keep = {"enc_utf8", "enc_bom", "enc_gb18030", "xlsx"}
        return cls(**{f.name: 0.0 for f in fields(cls) if f.name not in keep})

    @classmethod
    def heavy(cls) -> MessyRates:
        return cls(
            id_space=0.04,
            id_fullwidth=0.03,
            id_lower_x=0.6,
            id_quote=0.04,
            id_15=0.03,
            id_20=0.6,
            id_scientific=0.02,
            id_bad_check=0.02,
            unmatched_ids=0.03,
            date_cell=0.1,
            date_file=0.3,
            amount_thousands=0.08,
            amount_yuan=0.05,
            amount_blank=0.03,
            cat_space=0.05,
            cat_fullwidth=0.6,
            yesno_file=0.5,
            yesno_cell=0.05,
            duplicate_rows=0.03,
            extra_column=0.5,
            enc_utf8=0.34,
            enc_bom=0.33,
            enc_gb18030=0.33,
            xlsx=0.35,
        )

    def with_(self, **kw) -> MessyRates:
        return replace(self, **kw)


def _sub(s: pl.Series, idx: np.ndarray, expr_fn) -> pl.Series:
    """Apply a transform to the rows idx only (cheap for rare messy values)."""
    if len(idx) == 0:
        return s
    sub = s.gather(idx)
    new = pl.DataFrame({"c": sub}).select(expr_fn(pl.col("c")).cast(pl.String).alias("c"))["c"]
    return s.scatter(idx, new)


def _pick(rng, n, rates):
    """Per row: index of the messy kind (len(rates) = none)."""
    if sum(rates) <= 0 or n == 0:
        return np.full(n, len(rates))
    return np.searchsorted(np.cumsum(rates), rng.random(n), side="right")


_CHK = "10X98765432"


def mess_ids(s: pl.Series, rng, r: MessyRates, disabled: np.ndarray | None = None) -> tuple[pl.Series, np.ndarray]:
    """Returns the series and a mask of cells that should become Excel numbers (scientific)."""
    n = len(s)
    s = s.cast(pl.String)
    kind = _pick(rng, n, [r.id_space, r.id_fullwidth, r.id_quote, r.id_15, r.id_scientific, r.id_bad_check])
    u2 = rng.random(n)
    cat = rng.integers(1, 5, n)
    grade = rng.integers(1, 8, n)
    i = np.flatnonzero(kind == 3)
    if len(i):
        ok = (s.gather(i).str.slice(6, 2) == "19").fill_null(False).to_numpy()
        kind[i[~ok]] = 6
    sci = kind == 4
    if r.id_lower_x > 0:
        endx = s.str.ends_with("X").fill_null(False).to_numpy() & (kind == 6) & (u2 < r.id_lower_x)
        s = _sub(s, np.flatnonzero(endx), lambda c: c.str.to_lowercase())
        kind[endx] = 7
    if disabled is not None and r.id_20 > 0:
        to20 = np.flatnonzero(disabled & (kind == 6) & (rng.random(n) < r.id_20))
        if len(to20):
            extra = pl.Series(cat[to20].astype(str)) + pl.Series(grade[to20].astype(str))
            s = s.scatter(to20, s.gather(to20) + extra)
    s = _sub(
        s,
        np.flatnonzero(kind == 0),
        lambda c: pl.concat_str([c.str.slice(0, 6), pl.lit(" "), c.str.slice(6, 8), pl.lit(" "), c.str.slice(14, 4)]),
    )
    s = _sub(s, np.flatnonzero(kind == 1), lambda c: c.str.replace_many(DIGITS, FULLWIDTH))
    s = _sub(s, np.flatnonzero(kind == 2), lambda c: pl.concat_str([pl.lit("'"), c]))
    s = _sub(s, np.flatnonzero(kind == 3), lambda c: pl.concat_str([c.str.slice(0, 6), c.str.slice(8, 9)]))
    s = _sub(
        s,
        np.flatnonzero(kind == 4),
        lambda c: pl.concat_str(
            [
                pl.concat_str(
                    [c.str.slice(0, 1), pl.lit("."), c.str.slice(1, 5).str.strip_chars_end("0")]
                ).str.strip_chars_end("."),
                pl.lit("E+17"),
            ]
        ),
    )
    s = _sub(
        s,
        np.flatnonzero(kind == 5),
        lambda c: pl.concat_str(
            [
                c.str.slice(0, 17),
                c.str.slice(17, 1).replace_strict(list(_CHK), [_CHK[(k + 1) % 11] for k in range(11)], default="0"),
            ]
        ),
    )
    return s, sci


def fmt_dates(s: pl.Series, rng, r: MessyRates, file_fmt: str) -> pl.Series:
    n = len(s)
    raw = s
    out = s.dt.strftime(file_fmt)
    if r.date_cell > 0:
        m = rng.random(n) < r.date_cell
        alt = rng.integers(0, len(DATE_FORMATS), n)
        for i, f in enumerate(DATE_FORMATS):
            idx = np.flatnonzero(m & (alt == i))
            if len(idx):
                out = out.scatter(idx, raw.gather(idx).dt.strftime(f))
    return out


def _thousands(c: pl.Expr) -> pl.Expr:
    a = c.abs()
    ip = a.floor().cast(pl.Int64)
    frac = ((a - a.floor()) * 100).round(0).cast(pl.Int64).clip(0, 99)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    g1 = (ip % 1000).cast(pl.String).str.zfill(3)
    g2 = (ip // 1000 % 1000).cast(pl.String)
    g2z = (ip // 1000 % 1000).cast(pl.String).str.zfill(3)
    g3 = (ip // 1_000_000).cast(pl.String)
    body = (
        pl.when(ip >= 1_000_000)
        .then(pl.concat_str([g3, pl.lit(","), g2z, pl.lit(","), g1]))
        .when(ip >= 1000)
        .then(pl.concat_str([g2, pl.lit(","), g1]))
        .otherwise(ip.cast(pl.String))
    )
    return pl.concat_str([sign, body, pl.lit("."), frac.cast(pl.String).str.zfill(2)])


def fmt_amounts(s: pl.Series, rng, r: MessyRates) -> pl.Series:
    n = len(s)
    raw = s.cast(pl.Float64)
    out = raw.round(2).cast(pl.String)
    kind = _pick(rng, n, [r.amount_thousands, r.amount_yuan, r.amount_blank])
    i = np.flatnonzero(kind == 0)
    if len(i):
        out = out.scatter(i, pl.DataFrame({"c": raw.gather(i)}).select(_thousands(pl.col("c")))[:, 0])
    out = _sub(out, np.flatnonzero(kind == 1), lambda c: pl.concat_str([c, pl.lit("元")]))
    i = np.flatnonzero(kind == 2)
    if len(i):
        out = out.scatter(i, None)
    return out


def fmt_codes(s: pl.Series, rng, r: MessyRates, multi: bool) -> pl.Series:
    n = len(s)
    s = s.cast(pl.String)
    if r.cat_space > 0:
        m = rng.random(n) < r.cat_space
        where = rng.integers(0, 3, n)
        s = _sub(s, np.flatnonzero(m & (where == 0)), lambda c: pl.concat_str([pl.lit(" "), c]))
        s = _sub(s, np.flatnonzero(m & (where == 1)), lambda c: pl.concat_str([c, pl.lit(" ")]))
        s = _sub(s, np.flatnonzero(m & (where == 2)), lambda c: pl.concat_str([c, pl.lit("\u3000")]))
    if multi and r.cat_fullwidth > 0:
        has = s.str.contains(",", literal=True).fill_null(False).to_numpy() & (rng.random(n) < r.cat_fullwidth)
        s = _sub(s, np.flatnonzero(has), lambda c: c.str.replace_all(",", "，", literal=True))
    return s


_YN = [("是", "否"), ("Y", "N"), ("1", "0")]


def fmt_yesno(s: pl.Series, rng, r: MessyRates, style: int) -> pl.Series:
    n = len(s)
    raw = s.cast(pl.Boolean)
    y, nn = _YN[style]
    out = pl.DataFrame({"c": raw}).select(
        pl.when(pl.col("c")).then(pl.lit(y)).when(~pl.col("c")).then(pl.lit(nn)).otherwise(pl.lit(None, pl.String))
    )[:, 0]
    if r.yesno_cell > 0:
        m = rng.random(n) < r.yesno_cell
        alt = rng.integers(0, 3, n)
        for i, (yy, nn2) in enumerate(_YN):
            idx = np.flatnonzero(m & (alt == i))
            if len(idx):
                out = out.scatter(
                    idx,
                    pl.DataFrame({"c": raw.gather(idx)}).select(
                        pl.when(pl.col("c"))
                        .then(pl.lit(yy))
                        .when(~pl.col("c"))
                        .then(pl.lit(nn2))
                        .otherwise(pl.lit(None, pl.String))
                    )[:, 0],
                )
    return out


def duplicate_rows(df: pl.DataFrame, rng, rate: float) -> pl.DataFrame:
    n = df.height
    if n == 0 or rate <= 0:
        return df
    k = rng.binomial(n, rate)
    if k == 0:
        return df
    extra = rng.integers(0, n, k)
    idx = np.concatenate([np.arange(n), extra])
    order = np.argsort(idx, kind="stable")
    return df[idx[order]]
