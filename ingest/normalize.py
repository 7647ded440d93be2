"""Vectorised value normalisers: raw strings as read from CSV/XLSX in, typed values plus reasons out.

Every normaliser takes a ``pl.Series`` of raw strings (nulls allowed) and returns a ``pl.DataFrame`` of the same
height with three columns:

- ``value``: the typed, normalised value, or null;
- ``problem``: a Chinese reason when the raw value is present but unusable (then ``value`` is null), else null;
- ``note``: a Chinese note when something was repaired or converted and should be reported, not rejected.

A blank or whitespace-only raw value gives null value, null problem: the caller decides about "required".
Everything is polars expressions: no Python loop or ``map_elements`` over rows (millions of rows per run).
The scalar reference for ID numbers is ``ingest.idnumber``; the two agree word for word.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from fangfanpin.data_contracts import AFTER_DELIVERY, Column
from fangfanpin.ingest import idnumber as idn

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

_WS = idn.WHITESPACE_CLASS
_RAW, _S = "__raw", "__s"

P_DATE_FORMAT = "无法识别的日期格式"
P_DATE_MISSING = "日期不存在"
P_DATE_FUTURE = "日期晚于数据日期"
N_DATE_FUTURE = "日期晚于数据日期（{:%Y-%m-%d}），已载入，在该日期之前不参与计算"
P_DATE_EARLY = "日期早于1900年"
P_AMOUNT_FORMAT = "金额格式无法识别"
P_AMOUNT_NEGATIVE = "金额不应为负数"
P_INT_FORMAT = "整数格式无法识别"
P_YESNO = "是/否取值无法识别"
P_CODE = "取值不在允许范围内（允许的取值：{allowed}）"
P_CODES = "有取值不在允许范围内（允许的取值：{allowed}；多个取值用逗号或顿号分隔）"
P_DIVISION = "行政区划代码应为12位数字"
P_DIVISION_SCIENTIFIC = "Excel科学计数法，代码已无法恢复"

_YES = ("是", "Y", "YES", "1", "1.0", "有", "TRUE", "T", "√", "对")
_NO = ("否", "N", "NO", "0", "0.0", "无", "FALSE", "F", "×", "不是")
_YESNO_MAP = {**{k: True for k in _YES}, **{k: False for k in _NO}}


# ---------------------------------------------------------------- helpers


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


def _result(frame: pl.DataFrame, value: pl.Expr, problem: pl.Expr, note: pl.Expr | None = None) -> pl.DataFrame:
    """Assemble the three output columns; value is nulled wherever there is a problem."""
    note = pl.lit(None, dtype=pl.Utf8) if note is None else note
    out = frame.select(value.alias("value"), problem.cast(pl.Utf8).alias("problem"), note.cast(pl.Utf8).alias("note"))
    return out.with_columns(
        pl.when(pl.col("problem").is_null()).then(pl.col("value")).otherwise(None).alias("value"),
        pl.when(pl.col("problem").is_null()).then(pl.col("note")).otherwise(None).alias("note"),
    )


def _frame(raw: pl.Series, *, nfkc: bool = True, remove_all_ws: bool = True) -> pl.DataFrame:
    """Frame with the raw value and a cleaned string ``__s`` (null when blank)."""
    raw = _utf8(raw)
    s = _nfkc(raw) if nfkc else raw
    df = pl.DataFrame({_RAW: raw, _S: s})
    clean = _no_ws(pl.col(_S)) if remove_all_ws else _strip(pl.col(_S))
    return df.with_columns(_null_if_empty(clean).alias(_S))


# ---------------------------------------------------------------- ID numbers


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
    tidy_at, other_at = tidy.arg_true(), tidy.not_().arg_true()
    parts = [
        _normalize_tidy_ids(raw.gather(tidy_at), data_date, known_counties).with_columns(tidy_at.alias("__at")),
        _normalize_any_ids(raw.gather(other_at), data_date, known_counties).with_columns(other_at.alias("__at")),
    ]
    return pl.concat(parts).sort("__at").drop("__at")


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
    df = pl.DataFrame({_S: raw}).with_columns(i.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("__born"))
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
    df = pl.DataFrame({_RAW: raw, _S: s})
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


# ---------------------------------------------------------------- dates

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


# ---------------------------------------------------------------- numbers

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


# ---------------------------------------------------------------- yes/no, codes, divisions, text


def parse_yesno(raw: pl.Series) -> pl.DataFrame:
    """是/否, Y/N, YES/NO, 1/0, 有/无, TRUE/FALSE (any case, stray or full-width spaces, full-width letters)."""
    df = _frame(raw)
    s = pl.col(_S).str.to_uppercase()
    df = df.with_columns(s.replace_strict(_YESNO_MAP, default=None, return_dtype=pl.Boolean).alias("__v"))
    problem = pl.when(pl.col(_S).is_null()).then(None).when(pl.col("__v").is_null()).then(pl.lit(P_YESNO))
    return _result(df, pl.col("__v"), problem)


def _code_key(e: pl.Expr) -> pl.Expr:
    """Comparison key of a code: NFKC is applied before; no whitespace, lower-case."""
    return _no_ws(e).str.to_lowercase()


def _code_mapping(allowed: tuple[str, ...]) -> dict[str, str]:
    keys = _code_key(pl.col("a")).alias("k")
    frame = pl.DataFrame({"a": _nfkc(pl.Series("a", list(allowed), dtype=pl.Utf8))}).select(keys)
    mapping: dict[str, str] = {}
    for key, value in zip(frame["k"].to_list(), allowed):  # the allowed list is small: this loop is not per row
        mapping.setdefault(key, value)
    return mapping


_MULTI_SEP = f"(?:[,，、;；/]|{_WS})+"


def parse_code(raw: pl.Series, allowed: tuple[str, ...], *, multi: bool = False) -> pl.DataFrame:
    """A value from ``allowed``, compared after NFKC, without spaces, ignoring case; the value is the canonical
    allowed spelling. ``multi``: several values separated by , ， 、 ; ； / or spaces, rejoined with ','."""
    mapping = _code_mapping(tuple(allowed))
    keys = list(mapping)
    if not multi:
        df = _frame(raw)
        k = _code_key(pl.col(_S))
        df = df.with_columns(k.replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias("__v"))
        problem = (
            pl.when(pl.col(_S).is_null())
            .then(None)
            .when(pl.col("__v").is_null())
            .then(pl.lit(P_CODE.format(allowed="、".join(allowed))))
        )
        return _result(df, pl.col("__v"), problem)
    df = _frame(raw, remove_all_ws=False)
    parts = (
        pl.col(_S)
        .str.replace_all(_MULTI_SEP, ",")
        .str.strip_chars(",")
        .str.split(",")
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    df = df.with_columns(parts.alias("__parts"))
    p = pl.col("__parts")
    df = df.with_columns(
        p.list.eval(pl.element().str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.Utf8))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .list.join(",")
        .alias("__v"),
        p.list.eval(pl.element().filter(~pl.element().str.to_lowercase().is_in(keys))).list.join("、").alias("__bad"),
    )
    problem = (
        pl.when(pl.col(_S).is_null())
        .then(None)
        .when(pl.col("__bad") != "")
        .then(pl.lit(P_CODES.format(allowed="、".join(allowed))))
    )
    return _result(df, _null_if_empty(pl.col("__v")), problem)


def parse_division(raw: pl.Series) -> pl.DataFrame:
    """12-digit village code (NBS 统计用区划代码): spaces, full-width digits, a leading ' and a float's '.0' go."""
    df = _frame(raw)
    s = pl.col(_S).str.replace(r"^'+", "")
    df = df.with_columns(pl.when(s.str.contains(r"^[0-9]{12}\.0*$")).then(s.str.slice(0, 12)).otherwise(s).alias("__v"))
    v = pl.col("__v")
    problem = (
        pl.when(pl.col(_S).is_null())
        .then(None)
        .when(v.str.contains(idn.SCIENTIFIC_RE))
        .then(pl.lit(P_DIVISION_SCIENTIFIC))
        .when(~v.str.contains(r"^[0-9]{12}$"))
        .then(pl.lit(P_DIVISION))
    )
    return _result(df, v, problem)


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


def clean_text(raw: pl.Series) -> pl.DataFrame:
    """Free text: control characters (NUL etc.) removed, ASCII and full-width whitespace stripped at both ends.
    No NFKC: names and free text keep their characters. Never a problem."""
    raw = _utf8(raw)
    needs_cleaning = raw.str.contains(r"^[\s\u3000]|[\s\u3000]$|" + _CONTROL).fill_null(False)
    if needs_cleaning.any():
        idx = needs_cleaning.arg_true()
        cleaned = pl.select(_strip(pl.lit(raw.gather(idx)).str.replace_all(_CONTROL, ""))).to_series()
        raw = raw.scatter(idx, cleaned)
    value = pl.select(_null_if_empty(pl.lit(raw))).to_series()
    nothing = _nulls(len(raw))
    return pl.DataFrame({"value": value, "problem": nothing, "note": nothing})


# ---------------------------------------------------------------- dispatcher


def normalize_column(
    raw: pl.Series, column: Column, data_date: date, known_counties: frozenset[str] | None = None
) -> pl.DataFrame:
    """Normalise one column by its contract type (``data_contracts.Column``).

    Each distinct raw value is normalised once and the results joined back: codes, dates and yes/no repeat millions
    of times in a roster. ID numbers, free text and amounts go straight through: mostly distinct, or so cheap to
    clean that the join would cost more (measured: 3× slower for the roster's text columns).
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
