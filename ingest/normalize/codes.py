"""Yes/no, codes from a contract's allowed list (one or several), 12-digit division codes and free text."""

from __future__ import annotations

import polars as pl

from fangfanpin.ingest import idnumber as idn
from fangfanpin.ingest.normalize.frames import (
    _S,
    _WS,
    _frame,
    _nfkc,
    _no_ws,
    _null_if_empty,
    _nulls,
    _result,
    _strip,
    _utf8,
)

P_YESNO = "是/否取值无法识别"
P_CODE = "取值不在允许范围内（允许的取值：{allowed}）"
P_CODES = "有取值不在允许范围内（允许的取值：{allowed}；多个取值用逗号或顿号分隔）"
P_DIVISION = "行政区划代码应为12位数字"
P_DIVISION_SCIENTIFIC = "Excel科学计数法，代码已无法恢复"

_YES = ("是", "Y", "YES", "1", "1.0", "有", "TRUE", "T", "√", "对")
_NO = ("否", "N", "NO", "0", "0.0", "无", "FALSE", "F", "×", "不是")
_YESNO_MAP = {**{k: True for k in _YES}, **{k: False for k in _NO}}


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
