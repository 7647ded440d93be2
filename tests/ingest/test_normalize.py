"""Vectorised normalisers (ingest.normalize): the messy forms of docs/feeds.md, agreement with ingest.idnumber,
and property tests (never an exception; every non-blank input gets a value or a problem).
Longer than most files: one table of real spellings per contract type, kept together so that a new spelling a
department sends has one obvious place to go."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_helpers import DATA_DATE, assert_agree, check_shape, one, rows
from paths import DATA

from fangfanpin.data_contracts import Column, all_contracts
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

VECTORS = DATA / "id_vectors" / "cn_id_test_vectors.csv"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- ID numbers

ID_CASES = [
    ("150102198807303035", "150102198807303035", None, None),
    (" 150102 19880730 3035 ", "150102198807303035", None, None),
    ("１５０１０２１９８８０７３０３０３５", "150102198807303035", None, None),
    ("\u3000150102198807303035\u3000", "150102198807303035", None, None),
    ("44011320141005001x", "44011320141005001X", None, None),
    ("'150102198807303035", "150102198807303035", None, None),
    ("150102880730303", "150102198807303035", None, "15位旧号码已转换为18位"),
    ("15010219880730303512", "150102198807303035", None, "残疾人证号已取前18位身份证号"),
    ("15010219880730303612", None, "校验码错误", None),
    ("1.50625E+17", None, "Excel科学计数法，号码已无法恢复", None),
    ("1.50625199001011e+17", None, "Excel科学计数法，号码已无法恢复", None),
    ("150102198807303036", None, "校验码错误", None),
    ("360426199113010079", None, "出生日期无效", None),
    ("990426199112010074", None, "省级代码无效", None),
    ("12345678", None, "长度不是15或18位", None),
    ("T60426199101010078", None, "含非数字字符", None),
    ("81000019980902013X", "81000019980902013X", None, None),
    ("  ", None, None, None),
    (None, None, None, None),
]


@pytest.mark.parametrize(("raw", "value", "problem", "note"), ID_CASES)
def test_normalize_id_forms(raw, value, problem, note):
    assert one(normalize_id, raw, DATA_DATE) == (value, problem, note)


def test_normalize_id_unknown_county_is_a_note():
    raw = pl.Series(["110201199312010077", "150102880730303", "150625199001011232"])
    out = normalize_id(raw, DATA_DATE, frozenset({"150625"}))
    assert out["value"].to_list() == ["110201199312010077", "150102198807303035", "150625199001011232"]
    assert out["problem"].to_list() == [None, None, None]
    assert out["note"].to_list() == [
        "县级代码110201未知或已撤销（仍视为有效）",
        "15位旧号码已转换为18位；县级代码150102未知或已撤销（仍视为有效）",
        None,
    ]


def test_normalize_id_future_birth_date():
    body = "15062520261124123"
    number = body + idn._check_char(body)
    assert one(normalize_id, number, DATA_DATE)[1] == "出生日期无效"
    assert one(normalize_id, number, date(2026, 11, 24))[0] == number


def test_agrees_with_scalar_on_vectors():
    with VECTORS.open(encoding="utf-8") as f:
        numbers = [r["number"] for r in csv.DictReader(f)]
    assert_agree(numbers)
    assert_agree(numbers, frozenset({"360426", "150102"}))
    assert_agree([n.lower() + "12" if len(n) == 18 else n for n in numbers])


@st.composite
def id_like(draw):
    """ID numbers close to valid, with the messy forms of docs/feeds.md."""
    prov = draw(st.sampled_from(["15", "11", "44", "81", "99", "00", "71"]))
    body = prov + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    y = draw(st.integers(1880, 2030))
    m = draw(st.integers(0, 13))
    d = draw(st.integers(0, 32))
    body += f"{y:04d}{m:02d}{d:02d}" + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    kind = draw(st.sampled_from(["18", "bad", "15", "20", "lower", "fullwidth", "space", "quote", "sci", "cut"]))
    n = body + idn._check_char(body)
    if kind == "bad":
        n = body + draw(st.sampled_from("0123456789X"))
    elif kind == "15":
        n = body[:6] + body[8:]
    elif kind == "20":
        n += draw(st.from_regex(r"[0-9]{2}", fullmatch=True))
    elif kind == "lower":
        n = n.lower()
    elif kind == "fullwidth":
        n = "".join(chr(ord(c) + 0xFEE0) for c in n)
    elif kind == "space":
        n = " " + n[:6] + "\u3000" + n[6:] + " "
    elif kind == "quote":
        n = "'" + n
    elif kind == "sci":
        n = f"{int(body):.5E}"
    elif kind == "cut":
        n = n[: draw(st.integers(0, 17))]
    return n


@FAST
@given(st.lists(id_like(), min_size=1, max_size=40))
def test_agrees_with_scalar_generated(numbers):
    assert_agree(numbers)
    assert_agree(numbers, frozenset({"150625", "440308"}))


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=25), st.text("0123456789xX ．１Ｘ'-.eE+", max_size=22))))
def test_normalize_id_never_fails(raws):
    raw = pl.Series(raws, dtype=pl.Utf8)
    out = normalize_id(raw, DATA_DATE)
    blank = pl.Series([r is None or idn.compact(r) == "" for r in raws], dtype=pl.Boolean)  # a lone ' is blank
    check_shape(out, raw, blank)
    assert out["value"].drop_nulls().str.len_chars().eq(18).all()
    assert_agree(raws)


# ---------------------------------------------------------------- dates

DATE_CASES = [
    ("2026-03-05", date(2026, 3, 5), None),
    ("2026/3/5", date(2026, 3, 5), None),
    ("2026.3.5", date(2026, 3, 5), None),
    ("20260305", date(2026, 3, 5), None),
    ("2026年3月5日", date(2026, 3, 5), None),
    ("2026年03月05日", date(2026, 3, 5), None),
    ("2026-03-05 00:00:00", date(2026, 3, 5), None),
    (" ２０２６－０３－０５ ", date(2026, 3, 5), None),
    ("46086", date(2026, 3, 5), None),
    ("46086.0", date(2026, 3, 5), None),
    ("46086.75", date(2026, 3, 5), None),
    ("61", date(1900, 3, 1), None),
    ("1", date(1900, 1, 1), None),
    ("60", None, "日期不存在"),
    ("2026-02-30", None, "日期不存在"),
    ("2026-13-01", None, "日期不存在"),
    ("2026-12-01", None, "日期晚于数据日期"),
    ("1899-12-31", None, "日期早于1900年"),
    ("2026.3", None, "无法识别的日期格式"),
    ("3/5/2026", None, "无法识别的日期格式"),
    ("不详", None, "无法识别的日期格式"),
    ("0", None, "无法识别的日期格式"),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "value", "problem"), DATE_CASES)
def test_parse_date_forms(raw, value, problem):
    assert one(parse_date, raw, DATA_DATE) == (value, problem, None)


FUTURE_NOTE = "日期晚于数据日期（2026-11-23），已载入，在该日期之前不参与计算"


@pytest.mark.parametrize(
    ("after_delivery", "expected"),
    [
        ("refuse", (None, "日期晚于数据日期", None)),
        ("report", (date(2026, 11, 26), None, FUTURE_NOTE)),
        ("allow", (date(2026, 11, 26), None, None)),
    ],
)
def test_parse_date_after_the_delivery_date(after_delivery, expected):
    assert one(parse_date, "2026/11/26", DATA_DATE, after_delivery=after_delivery) == expected
    # the delivery date itself is never after it
    assert one(parse_date, "2026-11-23", DATA_DATE, after_delivery=after_delivery) == (DATA_DATE, None, None)


def test_parse_date_no_data_date_and_unknown_choice():
    assert one(parse_date, "2027-01-01")[0] == date(2027, 1, 1)
    with pytest.raises(ValueError, match="after_delivery"):
        parse_date(pl.Series(["2027-01-01"]), DATA_DATE, after_delivery="ignore")


@FAST
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=25),
            st.text("0123456789-/.年月日 :", max_size=20),
            st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
            st.integers(-10, 3_000_000).map(str),
            st.floats(allow_nan=True).map(str),
        )
    )
)
def test_parse_date_never_fails(raws):
    raw = pl.Series(raws, dtype=pl.Utf8)
    out = parse_date(raw, DATA_DATE)
    check_shape(out, raw)
    assert out["value"].dtype == pl.Date
    assert (out["value"].drop_nulls() <= DATA_DATE).all()


# ---------------------------------------------------------------- amounts, ints, yes/no


@pytest.mark.parametrize(
    ("raw", "signed", "value", "problem"),
    [
        ("12,345.60", False, 12345.6, None),
        ("12345.6元", False, 12345.6, None),
        ("¥12345", False, 12345.0, None),
        ("￥12,345", False, 12345.0, None),
        ("１２，３４５．６０", False, 12345.6, None),
        (" 1 200 ", False, 1200.0, None),
        ("0.125", False, 0.12, None),
        ("-120.5", True, -120.5, None),
        ("-120.5", False, None, "金额不应为负数"),
        ("-0", False, 0.0, None),
        ("abc", False, None, "金额格式无法识别"),
        ("1e400", True, None, "金额格式无法识别"),
        ("12.3.4", True, None, "金额格式无法识别"),
        ("", False, None, None),
        (None, True, None, None),
    ],
)
def test_parse_amount(raw, signed, value, problem):
    assert one(parse_amount, raw, signed=signed) == (value, problem, None)


@FAST
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=20),
            st.floats(allow_nan=True, allow_infinity=True).map(str),
            st.decimals(allow_nan=False, places=2).map(lambda d: f"{d:,}"),
            st.text("0123456789,.-元¥ ", max_size=15),
        )
    ),
    st.booleans(),
)
def test_parse_amount_never_fails(raws, signed):
    raw = pl.Series(raws, dtype=pl.Utf8)
    out = parse_amount(raw, signed=signed)
    check_shape(out, raw)
    assert out["value"].dtype == pl.Float64
    v = out["value"].drop_nulls()
    assert (v.round(2) == v).all()
    if not signed:
        assert (v >= 0).all()


@pytest.mark.parametrize(
    ("raw", "value", "problem"),
    [
        ("3", 3, None),
        ("3.0", 3, None),
        (" ３ ", 3, None),
        ("30", 30, None),
        ("31", None, "超出允许范围（0–30）"),
        ("-1", None, "超出允许范围（0–30）"),
        ("3.5", None, "整数格式无法识别"),
        ("三", None, "整数格式无法识别"),
        ("99999999999999999999", None, "整数格式无法识别"),
        ("", None, None),
    ],
)
def test_parse_int(raw, value, problem):
    assert one(parse_int, raw, min=0, max=30) == (value, problem, None)


def test_parse_int_unbounded_and_one_sided():
    assert one(parse_int, "-5") == (-5, None, None)
    assert one(parse_int, "1,200", min=0) == (1200, None, None)
    assert one(parse_int, "1999", min=2000) == (None, "超出允许范围（≥2000）", None)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("是", True),
        ("否", False),
        (" 是 ", True),
        ("\u3000否\u3000", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("有", True),
        ("无", False),
        ("TRUE", True),
        ("false", False),
        ("ｙｅｓ", True),
        ("1.0", True),
    ],
)
def test_parse_yesno(raw, value):
    assert one(parse_yesno, raw) == (value, None, None)


def test_parse_yesno_problems():
    assert rows(parse_yesno(pl.Series(["不知道", None, " "]))) == [
        (None, "是/否取值无法识别", None),
        (None, None, None),
        (None, None, None),
    ]


# ---------------------------------------------------------------- codes, divisions, text

HEALTH = ("健康", "长期慢性病", "患有大病", "残疾")


def test_parse_code_single():
    allowed = ("户主", "之子", "A", "城乡居民（补充）")
    raw = pl.Series([" 户主 ", "之 子", "a", "城乡居民(补充)", "城乡居民（补充）", "女婿", None, "\u3000"])
    assert rows(parse_code(raw, allowed)) == [
        ("户主", None, None),
        ("之子", None, None),
        ("A", None, None),
        ("城乡居民（补充）", None, None),
        ("城乡居民（补充）", None, None),
        (None, "取值不在允许范围内（允许的取值：户主、之子、A、城乡居民（补充））", None),
        (None, None, None),
        (None, None, None),
    ]


def test_parse_code_allowed_values_cleaned_the_same_way():
    # an allowed value written with ASCII parentheses still matches a full-width input, and the value stays canonical
    assert one(parse_code, "高中（一年级）", ("高中(一年级)",)) == ("高中(一年级)", None, None)


def test_parse_code_multi():
    raw = pl.Series(
        [
            "长期慢性病,残疾",
            "长期慢性病，残疾",
            "长期慢性病、残疾",
            "长期慢性病; 残疾",
            "长期慢性病 残疾",
            "残疾；残疾",
            "健康,感冒,头疼",
            " 健康 ",
        ]
    )
    out = parse_code(raw, HEALTH, multi=True)
    assert out["value"].to_list() == ["长期慢性病,残疾"] * 5 + ["残疾", None, "健康"]
    # the message lists what is allowed; the value itself stays in the raw value (it may be anything, an ID even)
    assert out["problem"].to_list() == [None] * 6 + [
        f"有取值不在允许范围内（允许的取值：{'、'.join(HEALTH)}；多个取值用逗号或顿号分隔）",
        None,
    ]


@pytest.mark.parametrize(
    ("raw", "value", "problem"),
    [
        ("150625100001", "150625100001", None),
        (" 150625 100001 ", "150625100001", None),
        ("'150625100001", "150625100001", None),
        ("１５０６２５１００００１", "150625100001", None),
        ("150625100001.0", "150625100001", None),
        ("1.50625E+11", None, "Excel科学计数法，代码已无法恢复"),
        ("150625", None, "行政区划代码应为12位数字"),
        ("15062510000A", None, "行政区划代码应为12位数字"),
        ("", None, None),
    ],
)
def test_parse_division(raw, value, problem):
    assert one(parse_division, raw) == (value, problem, None)


def test_clean_text():
    raw = pl.Series(["  张三\u3000", "a\x00b\x07c", " \t ", None, "第一行\n第二行", "（括号）"])
    assert rows(clean_text(raw)) == [
        ("张三", None, None),
        ("abc", None, None),
        (None, None, None),
        (None, None, None),
        ("第一行\n第二行", None, None),
        ("（括号）", None, None),
    ]


# ---------------------------------------------------------------- dispatcher


def test_normalize_column_dispatches_every_contract_column():
    samples = {
        "text": " x ",
        "code": None,
        "date": "2026/3/5",
        "amount": "1,000元",
        "int": "3",
        "yesno": "是",
        "id": "150102880730303",
        "division": "150625100001",
    }
    for contract in all_contracts():
        for column in contract.columns:
            value = column.values[0] if column.type == "code" else samples[column.type]
            raw = pl.Series([value, None, "\u3000"], dtype=pl.Utf8)
            out = normalize_column(raw, column, DATA_DATE)
            assert out.columns == ["value", "problem", "note"] and out.height == 3
            if column.type == "int" and column.min is not None and column.min > 3:
                continue
            assert out["problem"].to_list() == [None, None, None], (contract.feed, column.name)
            assert out["value"][0] is not None


def test_normalize_column_types():
    out = normalize_column(pl.Series(["-5"]), Column("x", "x", "amount", signed=True), DATA_DATE)
    assert out["value"].to_list() == [-5.0]
    out = normalize_column(pl.Series(["健康、残疾"]), Column("x", "x", "code", values=HEALTH, multi=True), DATA_DATE)
    assert out["value"].to_list() == ["健康,残疾"]
    out = normalize_column(pl.Series(["31"]), Column("x", "x", "int", min=0, max=30), DATA_DATE)
    assert out["problem"].to_list() == ["超出允许范围（0–30）"]


@pytest.mark.parametrize(
    ("after_delivery", "problem", "note"),
    [("refuse", "日期晚于数据日期", None), ("report", None, FUTURE_NOTE), ("allow", None, None)],
)
def test_normalize_column_date_after_delivery_by_contract(after_delivery, problem, note):
    """Both paths of normalize_column (distinct values joined back from 1,000 rows up) follow the column's choice."""
    column = Column("结算日期", "settlement_date", "date", after_delivery=after_delivery)
    for n in (3, 1_500):
        out = normalize_column(pl.Series(["2026-11-30", "2026-11-01", None] * (n // 3)), column, DATA_DATE)
        assert out.row(0) == (None if problem else date(2026, 11, 30), problem, note)
        assert out.row(1) == (date(2026, 11, 1), None, None) and out.row(2) == (None, None, None)


def test_empty_and_all_null_series():
    for fn in (
        lambda s: normalize_id(s, DATA_DATE),
        lambda s: parse_date(s, DATA_DATE),
        lambda s: parse_amount(s, signed=False),
        parse_int,
        parse_yesno,
        parse_division,
        clean_text,
        lambda s: parse_code(s, HEALTH),
        lambda s: parse_code(s, HEALTH, multi=True),
    ):
        assert fn(pl.Series([], dtype=pl.Utf8)).height == 0
        assert fn(pl.Series([None, None])).height == 2
