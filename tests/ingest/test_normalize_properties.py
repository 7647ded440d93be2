"""Property tests of every value normaliser (ingest.normalize, ingest.idnumber) on hostile text: NUL and control
characters, any unicode, whitespace of every kind, huge strings, Excel-mangled numbers (1.5E+17), full-width digits.

- never an exception, one output row per input, and never a value and a problem at once;
- a non-blank input always gets a value or a problem (never both null);
- valid inputs round-trip, whatever harmless decoration they arrive with;
- the vectorised normaliser agrees with the scalar one: ``ingest.idnumber`` for ID numbers, and for the others the
  same normaliser applied to each value alone (a column mixes fast-path and slow-path values), and the
  distinct-value path of ``normalize_column`` (≥ 1,000 rows) agrees with the direct one.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_helpers import DATA_DATE, assert_agree, check_shape

from fangfanpin.data_contracts import Column
from fangfanpin.ingest import idnumber as idn
from fangfanpin.ingest.normalize import (
    clean_text,
    normalize_column,
    normalize_id,
    parse_amount,
    parse_code,
    parse_date,
    parse_division,
    parse_int,
    parse_yesno,
)

pytestmark = pytest.mark.unit

PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
HEALTH = ("健康", "长期慢性病", "患有大病", "残疾")
RELATION = ("户主", "配偶", "之子", "之女", "其他")
FULL_WIDTH = str.maketrans("0123456789.,-+EeX", "０１２３４５６７８９．，－＋ＥｅＸ")
SPACES = [" ", "\t", "\u3000", "\xa0", "\u200b", "\ufeff", "\n"]


# ---------------------------------------------------------------- hostile text


def _excel_number(f: float) -> str:
    return f"{f:.5E}".replace("E+0", "E+")  # what Excel shows for a long number: 1.50625E+17


hostile_text = st.one_of(
    st.none(),
    st.text(max_size=30),  # any unicode, NUL and surrogates-free control characters included
    st.text(alphabet="0123456789Xx.,-+eE '元¥年月日/\x00\u3000 ", max_size=25),
    st.text(alphabet="０１２３４５６７８９ｘＸ．，", max_size=22),
    st.floats(1e10, 1e20).map(_excel_number),
    st.integers(0, 10**20).map(lambda n: str(n).translate(FULL_WIDTH)),
    st.tuples(st.sampled_from(SPACES), st.text(max_size=8), st.sampled_from(SPACES)).map("".join),
    st.tuples(st.sampled_from("0９x\x00中 "), st.integers(1_000, 60_000)).map(lambda t: t[0] * t[1]),  # huge
)
hostile_lists = st.lists(hostile_text, max_size=25)


def _blank(raw: str | None, *, id_number: bool = False) -> bool:
    """No content at all: null, or only whitespace (after NFKC), or for an ID number a lone Excel text marker '."""
    if raw is None:
        return True
    if id_number:
        return idn.compact(raw) == ""
    return pl.select(pl.lit(unicodedata.normalize("NFKC", raw)).str.replace_all(idn.WHITESPACE_CLASS, "")).item() == ""


def _check(out: pl.DataFrame, raws: list, *, id_number: bool = False, blank_extra=None) -> None:
    blank = [_blank(r, id_number=id_number) or (blank_extra is not None and blank_extra(r)) for r in raws]
    check_shape(out, pl.Series(raws, dtype=pl.Utf8), pl.Series(blank, dtype=pl.Boolean))


def _one_by_one(fn, raws: list) -> list[tuple]:
    return [fn(pl.Series([r], dtype=pl.Utf8)).row(0) for r in raws]


def _agrees(fn, raws: list) -> None:
    """The whole column at once gives exactly what each value gives alone."""
    assert list(fn(pl.Series(raws, dtype=pl.Utf8)).iter_rows()) == _one_by_one(fn, raws)


# ---------------------------------------------------------------- never raise, value or reason, batch = alone


def _multi_separators_only(raw: str | None) -> bool:
    return (
        raw is not None
        and pl.select(
            pl.lit(unicodedata.normalize("NFKC", raw)).str.replace_all(rf"(?:[,，、;；/]|{idn.WHITESPACE_CLASS})+", "")
        ).item()
        == ""
    )


NORMALISERS = {
    "date": (lambda s: parse_date(s, DATA_DATE), {}),
    "amount": (lambda s: parse_amount(s, signed=False), {}),
    "signed amount": (lambda s: parse_amount(s, signed=True), {}),
    "int": (lambda s: parse_int(s, min=0, max=30), {}),
    "unbounded int": (parse_int, {}),
    "yes/no": (parse_yesno, {}),
    "code": (lambda s: parse_code(s, RELATION), {}),
    "multi code": (lambda s: parse_code(s, HEALTH, multi=True), {"blank_extra": _multi_separators_only}),
    "division": (parse_division, {}),
    "id": (lambda s: normalize_id(s, DATA_DATE, frozenset({"150625"})), {"id_number": True}),
}


@PROPERTY
@given(hostile_lists, st.sampled_from(sorted(NORMALISERS)))
def test_every_normaliser_gives_a_value_or_a_reason_and_the_same_alone(raws, kind):
    fn, options = NORMALISERS[kind]
    out = fn(pl.Series(raws, dtype=pl.Utf8))
    _check(out, raws, **options)
    _agrees(fn, raws)


@PROPERTY
@given(hostile_lists)
def test_clean_text_never_fails_and_removes_control_characters(raws):
    out = clean_text(pl.Series(raws, dtype=pl.Utf8))
    assert out.height == len(raws) and out["problem"].is_null().all()
    for value in out["value"].drop_nulls():
        assert "\x00" not in value and value == value.strip(" \t\u3000")
    _agrees(clean_text, raws)


@PROPERTY
@given(hostile_lists)
def test_vectorised_id_agrees_with_the_scalar_idnumber(raws):
    assert_agree(raws, frozenset({"150625"}))


COLUMNS = [
    Column("日期", "d", "date"),
    Column("整数", "i", "int", min=0, max=30),
    Column("是否", "y", "yesno"),
    Column("类别", "c", "code", values=HEALTH, multi=True),
    Column("代码", "v", "division"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_text, min_size=1, max_size=12), st.sampled_from(COLUMNS))
def test_the_distinct_value_path_agrees_with_the_direct_one(raws, column):
    repeated = (raws * (1_000 // len(raws) + 1))[:1_000]  # ≥ 1,000 rows: each distinct value normalised once
    direct = normalize_column(pl.Series(repeated[:999], dtype=pl.Utf8), column, DATA_DATE)
    joined = normalize_column(pl.Series(repeated, dtype=pl.Utf8), column, DATA_DATE)
    assert joined.head(999).equals(direct)


# ---------------------------------------------------------------- valid inputs round-trip


@st.composite
def valid_ids(draw) -> str:
    province = draw(st.sampled_from(sorted(idn.PROVINCE_CODES)))
    born = draw(st.dates(date(1900, 1, 1), DATA_DATE))
    body = (
        province
        + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
        + born.strftime("%Y%m%d")
        + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    )
    return body + idn._check_char(body)


def _decorate(draw, text: str) -> str:
    form = draw(st.sampled_from(["plain", "spaces", "full-width", "ideographic space"]))
    if form == "spaces":
        return f" {text} "
    if form == "full-width":
        return text.translate(FULL_WIDTH)
    if form == "ideographic space":
        return f"\u3000{text}\u3000"
    return text


@PROPERTY
@given(valid_ids(), st.data())
def test_valid_id_numbers_round_trip(number, data):
    raw = _decorate(data.draw, number)
    if data.draw(st.booleans()):
        raw = raw.lower()
    assert normalize_id(pl.Series([raw]), DATA_DATE).row(0)[:2] == (number, None)
    assert idn.validate(raw, DATA_DATE) == number
    if number[6:8] == "19" and number[:2] not in ("81", "82", "83"):  # an old 15-digit number converts back
        old = number[:6] + number[8:17]
        assert normalize_id(pl.Series([old]), DATA_DATE).row(0)[0] == number


@PROPERTY
@given(
    st.dates(date(1900, 3, 1), DATA_DATE),
    st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d 00:00:00", "serial"]),
    st.data(),
)
def test_valid_dates_round_trip(day, form, data):
    raw = str((day - date(1899, 12, 30)).days) if form == "serial" else day.strftime(form)
    assert parse_date(pl.Series([_decorate(data.draw, raw)]), DATA_DATE).row(0) == (day, None, None)


@PROPERTY
@given(
    st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2),
    st.booleans(),
    st.sampled_from(["{:.2f}", "{:,.2f}", "{:.2f}元", "¥{:,.2f}"]),
    st.data(),
)
def test_valid_amounts_round_trip(amount, negative, form, data):
    raw = form.format(amount)
    if negative:
        raw = "-" + raw
    value, problem, _ = parse_amount(pl.Series([_decorate(data.draw, raw)]), signed=True).row(0)
    assert problem is None and value == float(-amount if negative else amount)


@PROPERTY
@given(st.integers(-(10**12), 10**12), st.data())
def test_valid_integers_round_trip(n, data):
    assert parse_int(pl.Series([_decorate(data.draw, str(n))])).row(0) == (n, None, None)


@PROPERTY
@given(st.sampled_from(HEALTH + RELATION), st.data())
def test_allowed_codes_and_yes_no_round_trip(code, data):
    allowed = HEALTH if code in HEALTH else RELATION
    assert parse_code(pl.Series([_decorate(data.draw, code)]), allowed).row(0) == (code, None, None)
    answer = data.draw(st.sampled_from(["是", "否", "Y", "N", "1", "0"]))
    assert parse_yesno(pl.Series([_decorate(data.draw, answer)])).row(0) == (answer in ("是", "Y", "1"), None, None)


@PROPERTY
@given(st.from_regex(r"[0-9]{12}", fullmatch=True), st.data())
def test_valid_division_codes_round_trip(code, data):
    assert parse_division(pl.Series([_decorate(data.draw, code)])).row(0) == (code, None, None)
