"""Dates (ISO, Chinese, compact, Excel serials), yuan amounts and integers."""

from __future__ import annotations

from datetime import date

import polars as pl

from fangfanpin.data_contracts import AFTER_DELIVERY
from fangfanpin.ingest.normalize.frames import _S, _WS, _frame, _nulls, _result, _utf8

P_DATE_FORMAT = "无法识别的日期格式"
P_DATE_MISSING = "日期不存在"
P_DATE_FUTURE = "日期晚于数据日期"
N_DATE_FUTURE = "日期晚于数据日期（{:%Y-%m-%d}），已载入，在该日期之前不参与计算"
P_DATE_EARLY = "日期早于1900年"
P_AMOUNT_FORMAT = "金额格式无法识别"
P_AMOUNT_NEGATIVE = "金额不应为负数"
P_INT_FORMAT = "整数格式无法识别"

_DATE_YMD = (
    r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?"
    r"(?:[T ]?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$"
)
_DATE_COMPACT = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_EXCEL_EPOCH = date(1899, 12, 30)  # 1900 date system, serial >= 61 (Excel's phantom 1900-02-29 is serial 60)
_EXCEL_MAX = 2958465  # 9999-12-31


def parse_date(raw: pl.Series, data_date: date | None = None, *, after_delivery: str = "refuse") -> pl.DataFrame:
    """Dates: 2026-03-05, 2026/3/5, 2026.3.5, 20260305, 2026年3月5日, '2026-03-05 00:00:00', Excel serials
    ('46086', '46086.0'; all digits of length ≤ 5, or a decimal number). A decimal that looks like a year.month
    ('2026.3') is not taken as a serial.

    A date after ``data_date`` is, by ``after_delivery`` (``data_contracts.AFTER_DELIVERY``): ``refuse`` a problem,
    ``report`` kept with a note (the windows ignore it until its date), ``allow`` kept silently."""
    if after_delivery not in AFTER_DELIVERY:
        raise ValueError(f"after_delivery must be one of {sorted(AFTER_DELIVERY)}, not {after_delivery!r}")
    df = _frame(raw, remove_all_ws=False)
    s = pl.col(_S)
    df = df.with_columns(s.str.replace_all(f"{_WS}+", " ").alias(_S))
    ymd = s.str.extract_groups(_DATE_YMD)
    cmp = s.str.extract_groups(_DATE_COMPACT)
    is_serial_int = s.str.contains(r"^[0-9]{1,5}$")
    is_serial_float = s.str.contains(r"^[0-9]{1,7}\.[0-9]+$") & ~s.str.contains(r"^(19|20)[0-9]{2}\.[0-9]{1,2}$")
    df = df.with_columns(
        pl.coalesce(ymd.struct.field("1"), cmp.struct.field("1")).alias("__y"),
        pl.coalesce(ymd.struct.field("2"), cmp.struct.field("2")).alias("__m"),
        pl.coalesce(ymd.struct.field("3"), cmp.struct.field("3")).alias("__d"),
        pl.when(is_serial_int | is_serial_float)
        .then(s.cast(pl.Float64, strict=False).floor().cast(pl.Int64, strict=False))
        .alias("__serial"),
    )
    serial = pl.col("__serial")
    serial_ok = serial.is_between(1, _EXCEL_MAX).fill_null(False)
    serial_date = (
        pl.when(serial_ok & (serial >= 61))
        .then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial))
        .when(serial_ok & (serial < 60))
        .then(pl.lit(date(1899, 12, 31)) + pl.duration(days=serial))
    ).cast(pl.Date)
    ymd_date = pl.concat_str(
        pl.col("__y"), pl.col("__m").str.zfill(2), pl.col("__d").str.zfill(2), separator="-"
    ).str.to_date("%Y-%m-%d", strict=False)
    df = df.with_columns(pl.coalesce(ymd_date, serial_date).alias("__date"))
    d = pl.col("__date")
    problem = (
        pl.when(s.is_null())
        .then(None)
        .when(pl.col("__y").is_null() & ~serial_ok)
        .then(pl.lit(P_DATE_FORMAT))
        .when(d.is_null())
        .then(pl.lit(P_DATE_MISSING))
        .when(d < date(1900, 1, 1))
        .then(pl.lit(P_DATE_EARLY))
    )
    note = None
    if data_date is not None and after_delivery == "refuse":
        problem = problem.when(d > data_date).then(pl.lit(P_DATE_FUTURE))
    elif data_date is not None and after_delivery == "report":
        note = pl.when(d > data_date).then(pl.lit(N_DATE_FUTURE.format(data_date)))
    return _result(df, d, problem, note)


_AMOUNT_RE = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


_PLAIN_AMOUNT = r"^-?[0-9]{1,15}(?:\.[0-9]{1,6})?$"


def parse_amount(raw: pl.Series, *, signed: bool) -> pl.DataFrame:
    """Yuan amounts: '12,345.60', '12345.6元', '¥12345', full-width digits and commas, spaces, '-120.5'.
    Rounded to 2 decimals. Negative amounts are a problem unless ``signed``.

    Plain numbers (nearly every row) are cast directly; only the rest go through the cleaning passes."""
    raw = _utf8(raw)
    messy = ~raw.str.contains(_PLAIN_AMOUNT).fill_null(True)
    if messy.all():
        return _parse_amount_messy(raw, signed=signed)
    value = raw.cast(pl.Float64, strict=False).round(2)
    problem, note = _nulls(len(raw), "problem"), _nulls(len(raw), "note")
    if messy.any():
        idx = messy.arg_true()
        slow = _parse_amount_messy(raw.gather(idx), signed=signed)
        value = value.scatter(idx, slow.get_column("value"))
        problem = problem.scatter(idx, slow.get_column("problem"))
    out = pl.DataFrame({"value": value, "problem": problem, "note": note})
    if not signed:
        out = out.with_columns(
            pl.when(pl.col("value") < 0).then(pl.lit(P_AMOUNT_NEGATIVE)).otherwise(pl.col("problem")).alias("problem")
        )
    return out.with_columns(
        pl.when(pl.col("problem").is_not_null())
        .then(None)
        .when(pl.col("value") == 0)
        .then(pl.lit(0.0))
        .otherwise(pl.col("value"))
        .alias("value")
    )


def _parse_amount_messy(raw: pl.Series, *, signed: bool) -> pl.DataFrame:
    df = _frame(raw)
    s = (
        pl.col(_S)
        .str.replace_all("[,_]", "")
        .str.replace_all("[−–—]", "-")  # minus sign and dashes typed for a minus
        .str.replace(r"^([+-]?)(?:¥|RMB|CNY)", "${1}")
        .str.replace(r"(?:元|圆|RMB|CNY)$", "")
    )
    df = df.with_columns(s.alias("__a"))
    a = pl.col("__a")
    num = pl.when(a.str.contains(_AMOUNT_RE)).then(a.cast(pl.Float64, strict=False))
    df = df.with_columns(num.alias("__v"))
    v = pl.col("__v")
    problem = (
        pl.when(pl.col(_S).is_null())
        .then(None)
        .when(v.is_null() | v.is_infinite() | v.is_nan())
        .then(pl.lit(P_AMOUNT_FORMAT))
    )
    if not signed:
        problem = problem.when(v.round(2) < 0).then(pl.lit(P_AMOUNT_NEGATIVE))
    return _result(df, pl.when(v == 0).then(pl.lit(0.0)).otherwise(v.round(2)), problem)  # no -0.0


def _range_text(min: int | None, max: int | None) -> str:
    if min is not None and max is not None:
        return f"超出允许范围（{min}–{max}）"
    if min is not None:
        return f"超出允许范围（≥{min}）"
    return f"超出允许范围（≤{max}）"


def parse_int(raw: pl.Series, *, min: int | None = None, max: int | None = None) -> pl.DataFrame:
    """Integers: '3', '3.0', ' ３ ', '1,200'. Out of [min, max] is a problem."""
    df = _frame(raw)
    s = pl.col(_S)
    ok = s.str.contains(r"^[+-]?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.0*)?$")
    digits = s.str.replace_all(",", "").str.replace(r"\.0*$", "").str.replace(r"^\+", "")
    df = df.with_columns(pl.when(ok).then(digits.cast(pl.Int64, strict=False)).alias("__v"))
    v = pl.col("__v")
    problem = pl.when(s.is_null()).then(None).when(v.is_null()).then(pl.lit(P_INT_FORMAT))
    if min is not None or max is not None:
        out = pl.lit(False)
        if min is not None:
            out = out | (v < min)
        if max is not None:
            out = out | (v > max)
        problem = problem.when(out).then(pl.lit(_range_text(min, max)))
    return _result(df, v, problem)
