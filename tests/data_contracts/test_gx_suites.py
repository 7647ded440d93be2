"""Great Expectations suites built from the data contracts (data_contracts.gx_suites)."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import polars as pl
import pytest

from fangfanpin.assets.ingest.checks import checked_columns
from fangfanpin.data_contracts import load_contract
from fangfanpin.data_contracts.gx_suites import (
    DeliveryProfile,
    SuiteResult,
    drift_suite,
    profile,
    structure_suite,
    validate,
    value_columns,
)
from fangfanpin.data_contracts.gx_suites.suites import ID_REGEX
from fangfanpin.ingest.warehouse import q

pytestmark = pytest.mark.unit

FULL_ID = re.compile(r"\d{15,}")
IDS = [f"15062519900101{n:03d}{d}" for n, d in zip(range(100, 110), "123456789X")]


def _lineage(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.lit(dt.date(2026, 11, 1)).alias("_delivery_date"),
        pl.lit("x.csv").alias("_file"),
        pl.int_range(df.height, dtype=pl.Int64).alias("_row"),
        pl.lit("150625").alias("county_code"),
    )


def clean_frame(feed: str, n: int = 10) -> pl.DataFrame:
    """A clean, typed frame for any contract: valid codes, IDs, divisions; non-negative amounts; ints in range."""
    contract = load_contract(feed)
    cols: dict[str, pl.Series] = {}
    for c in contract.columns:
        if c.type == "id":
            values = [IDS[i % len(IDS)] for i in range(n)]
        elif c.type == "division":
            values = [f"150625{100 + i % 3:03d}001" for i in range(n)]
        elif c.type == "code":
            values = [c.values[i % len(c.values)] for i in range(n)]
            if c.multi:
                values[0] = ",".join(c.values[:2])
        elif c.type == "date":
            values = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n)]
        elif c.type == "amount":
            values = [float(100 * (i + 1)) for i in range(n)]
        elif c.type == "int":
            lo = c.min if c.min is not None else 0
            hi = c.max if c.max is not None else lo + 5
            values = [lo + i % (hi - lo + 1) for i in range(n)]
        elif c.type == "yesno":
            values = [i % 2 == 0 for i in range(n)]
        else:
            values = [f"{c.name}_{i}" for i in range(n)]
        dtype = {"date": pl.Date, "amount": pl.Float64, "int": pl.Int64, "yesno": pl.Boolean}.get(c.type, pl.Utf8)
        cols[c.name] = pl.Series(c.name, values, dtype=dtype)
    df = pl.DataFrame(cols)
    if contract.key == ("household_id", "year"):  # compound key: make it unique across rows
        df = df.with_columns(pl.Series("household_id", [f"H{i}" for i in range(n)]))
    elif len(contract.key) == 1 and contract.column(contract.key[0]).type != "id":
        df = df.with_columns(pl.Series(contract.key[0], [f"K{i}" for i in range(n)]))
    return _lineage(df)


def _set(df: pl.DataFrame, column: str, row: int, value) -> pl.DataFrame:
    values = df[column].to_list()
    values[row] = value
    return df.with_columns(pl.Series(column, values, dtype=df[column].dtype))


def _texts(result: SuiteResult) -> list[str]:
    return [f"{f.observed} {f.message_zh}" for f in result.failures]


def _assert_masked(result: SuiteResult) -> None:
    for text in _texts(result):
        assert not FULL_ID.search(text), text
    json.dumps(result.to_dict(), ensure_ascii=False)  # JSON-friendly


FEEDS = ["roster", "medical_claims", "household_income"]


@pytest.fixture(scope="module")
def suites():
    return {feed: structure_suite(load_contract(feed)) for feed in FEEDS}


@pytest.mark.parametrize("feed", FEEDS)
def test_clean_frame_passes(feed, suites):
    result = validate(clean_frame(feed), suites[feed])
    assert result.success, _texts(result)
    assert result.failures == []
    assert result.evaluated == len(suites[feed].expectations)


def test_suite_is_built_from_contract(suites):
    types = [e.expectation_type for e in suites["roster"].expectations]
    contract = load_contract("roster")
    [presence] = [e for e in suites["roster"].expectations if e.expectation_type == "expect_table_columns_to_match_set"]
    assert sorted(presence.column_set) == sorted(contract.names) and presence.exact_match is False
    assert types.count("expect_column_values_to_not_be_null") == len(contract.required)
    assert "expect_column_values_to_be_unique" in types
    income_types = [e.expectation_type for e in suites["household_income"].expectations]
    assert "expect_compound_columns_to_be_unique" in income_types


DEFECTS = {  # feed -> [(column, bad value, expectation type, expected message fragment)], one defect per row
    "roster": [
        ("id_number", None, "expect_column_values_to_not_be_null", "必填列 证件号码 有 1 行为空"),
        ("relation", "表哥", "expect_column_values_to_be_in_set", "列 与户主关系 有 1 个值不在允许范围内：['表哥']"),
        ("health", "健康,感冒", "expect_column_values_to_match_regex", "列 健康状况 有 1 个值不在允许范围内"),
        ("id_number", "15062519900101001", "expect_column_values_to_match_regex", "列 证件号码 有 1 个值不是18位"),
        ("village_code", "1506251000", "expect_column_values_to_match_regex", "列 行政区划代码 有 1 个值不是12位"),
    ],
    "medical_claims": [
        ("settlement_type", "退费", "expect_column_values_to_be_in_set", "列 结算类型 有 1 个值不在允许范围内"),
        ("name", None, "expect_column_values_to_not_be_null", "必填列 姓名 有 1 行为空"),
        ("id_number", "150625199001011234567", "expect_column_values_to_match_regex", "列 证件号码 有 1 个值"),
    ],
    "household_income": [
        ("wage_income", -5.0, "expect_column_values_to_be_between", "金额列 工资性收入(元) 有 1 个负值：['-5.0']"),
        ("year", 1999, "expect_column_values_to_be_between", "列 年度 有 1 个值超出范围 [2000, 2100]：['1999']"),
        ("net_income", None, "expect_column_values_to_not_be_null", "必填列 家庭纯收入(元) 有 1 行为空"),
    ],
}


@pytest.mark.parametrize("feed", FEEDS)
def test_each_defect_fails_naming_the_column_in_chinese(feed, suites):
    df = clean_frame(feed)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = _set(df, column, row, value)
    result = validate(df, suites[feed])
    assert not result.success
    assert len(result.failures) == len(DEFECTS[feed]), _texts(result)
    for column, _, expect_type, fragment in DEFECTS[feed]:
        hits = [f for f in result.failures if f.column == column and f.expectation == expect_type]
        assert len(hits) == 1, (column, _texts(result))
        assert hits[0].observed == 1
        assert fragment in hits[0].message_zh, hits[0].message_zh
        assert load_contract(feed).column(column).header in hits[0].message_zh
    _assert_masked(result)


@pytest.mark.parametrize("feed", FEEDS)
def test_configurations_built_once_find_what_gx_finds_alone(feed, suites, monkeypatch):
    """Each expectation's configuration is built once during a validation: the same failures, counts and samples as
    GX building it on every read; outside a validation, also after one that failed, it is built anew on every read
    as GX does (a caller may change the expectation in between)."""
    import contextlib

    from fangfanpin.data_contracts.gx_suites import validation

    df = clean_frame(feed, 40)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = _set(df, column, row, value)
    built_once = validate(df, suites[feed])
    expectation = suites[feed].expectations[0]
    assert expectation.configuration is not expectation.configuration
    with pytest.raises(RuntimeError), validation._configurations_built_once():
        assert expectation.configuration is expectation.configuration
        raise RuntimeError("a validation that fails half-way")
    assert expectation.configuration is not expectation.configuration
    monkeypatch.setattr(validation, "_configurations_built_once", contextlib.nullcontext)
    built_anew = validate(df, suites[feed])
    assert not built_once.success and built_once.to_dict() == built_anew.to_dict()


def test_duplicate_single_key(suites):
    df = _set(clean_frame("roster"), "id_number", 4, IDS[3])
    result = validate(df, suites["roster"])
    [f] = [f for f in result.failures if f.expectation == "expect_column_values_to_be_unique"]
    assert f.column == "id_number" and f.observed == 2
    assert f.message_zh.startswith("键 (证件号码) 有 2 行重复")
    assert "150625********" in f.message_zh
    _assert_masked(result)


def test_validating_leaves_nothing_behind_in_the_gx_context(suites):
    """A long-lived process (the demo's 41 runs, a code server) validates thousands of times: no suite or result may
    pile up in the ephemeral context."""
    from fangfanpin.data_contracts.gx_suites.validation import _new_context

    context = _new_context()
    clean, broken = clean_frame("roster"), _set(clean_frame("roster"), "id_number", 4, IDS[3])
    validate(clean, suites["roster"])
    before = (len(context.suites.all()), len(context.validation_results_store.list_keys()))
    for frame in (clean, broken, clean):
        validate(frame, suites["roster"])
    assert (len(context.suites.all()), len(context.validation_results_store.list_keys())) == before == (0, 0)


def test_no_part_of_a_validated_frame_outlives_its_validation(suites):
    """GX keeps the last batch and its metrics (full-length Series) in the execution engine: at a province's size
    that held the roster's frame through the steps after its checks. A failing frame runs twice (pass/fail, then
    the failures' details), so both paths are looked at."""
    import gc

    import pandas as pd

    rows = 4_321  # a length nothing else in this test process has
    for broken in (False, True):
        frame = clean_frame("roster", rows)
        validate(_set(frame, "relation", 3, "表哥") if broken else frame, suites["roster"])
        del frame
        gc.collect()
        alive = [o for o in gc.get_objects() if isinstance(o, (pd.DataFrame, pd.Series, pl.DataFrame, pl.Series))]
        assert not [o for o in alive if len(o) == rows]


def test_duplicate_compound_key(suites):
    df = _set(clean_frame("household_income"), "household_id", 4, "H3")
    df = _set(df, "year", 4, df["year"][3])
    result = validate(df, suites["household_income"])
    [f] = [f for f in result.failures if f.expectation == "expect_compound_columns_to_be_unique"]
    assert f.column == "household_id,year"
    assert f.message_zh.startswith("键 (户编号, 年度) 有 2 行重复")


def test_duplicate_key_in_medical_claims(suites):
    df = _set(clean_frame("medical_claims"), "settlement_id", 1, "K0")
    result = validate(df, suites["medical_claims"])
    assert any(f.message_zh.startswith("键 (结算流水号)") for f in result.failures), _texts(result)


def test_signed_amounts_may_be_negative(suites):
    df = _set(clean_frame("medical_claims"), "total_cost", 2, -300.0)
    assert validate(df, suites["medical_claims"]).success


def test_missing_column_is_reported_not_crashing(suites):
    df = clean_frame("roster").drop("relation")
    result = validate(df, suites["roster"])
    [f] = result.failures
    assert f.expectation == "expect_table_columns_to_match_set" and f.column == "relation"
    assert f.message_zh == "缺少列 与户主关系"


def test_each_missing_column_is_named(suites):
    result = validate(clean_frame("roster").drop("relation", "health"), suites["roster"])
    assert sorted(f.message_zh for f in result.failures) == ["缺少列 与户主关系", "缺少列 健康状况"]


def test_malformed_ids_are_masked(suites):
    df = clean_frame("roster")
    for row, bad in enumerate(
        ["１５０６２５１９９００１０１１２３４", "150625 19900101 1234", "150625199001011234x", "1.50625E+17"]
    ):
        df = _set(df, "id_number", row, bad)
    result = validate(df, suites["roster"])
    [f] = [f for f in result.failures if f.expectation.endswith("match_regex") and f.column == "id_number"]
    assert f.observed == 4
    _assert_masked(result)
    assert "1234" in f.message_zh  # last four kept
    assert "19900101" not in f.message_zh


def test_profile_roundtrip():
    df = _set(clean_frame("household_income"), "wage_income", 0, None)
    p = profile(df, load_contract("household_income"))
    assert p.row_count == 10
    assert p.null_rates["wage_income"] == pytest.approx(0.1)
    assert "_row" not in p.null_rates and "county_code" not in p.null_rates
    assert DeliveryProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert profile(df).null_rates == p.null_rates  # without a contract: every non-lineage column


def _big(feed: str, n: int) -> pl.DataFrame:
    return clean_frame(feed, n)


def test_drift_passes_on_similar_delivery():
    contract = load_contract("household_income")
    previous = profile(_big("household_income", 100), contract)
    current = _set(_big("household_income", 120), "wage_income", 0, None)  # +20% rows, +0.8% nulls
    result = validate(current, drift_suite(contract, previous))
    assert result.success, _texts(result)
    # row count, and the null rate of every column the structure suite does not already want without nulls
    assert result.evaluated == 1 + len([c for c in contract.columns if not c.required])


def test_drift_fails_on_row_spike():
    contract = load_contract("medical_claims")
    previous = profile(_big("medical_claims", 20), contract)
    result = validate(_big("medical_claims", 200), drift_suite(contract, previous))
    [f] = result.failures
    assert f.expectation == "expect_table_row_count_to_be_between" and f.observed == 200 and f.column is None
    assert f.message_zh.startswith("行数 200 与上次交付 20 相比变化过大")


def test_drift_row_count_sees_full_height_when_sampling():
    contract = load_contract("medical_claims")
    previous = profile(_big("medical_claims", 20), contract)
    result = validate(_big("medical_claims", 200), drift_suite(contract, previous), max_rows=50)
    assert [f.observed for f in result.failures] == [200]


def test_drift_fails_on_null_rate_jump():
    contract = load_contract("roster")
    previous = profile(clean_frame("roster", 40), contract)
    df = clean_frame("roster", 40).with_columns(
        pl.when(pl.int_range(40) < 10).then(None).otherwise(pl.col("birth_date")).alias("birth_date")
    )
    result = validate(df, drift_suite(contract, previous))
    [f] = result.failures
    assert f.column == "birth_date" and f.observed == pytest.approx(0.25)
    assert f.message_zh.startswith("列 出生日期 空值比例 25.0%，上次交付为 0.0%")


def test_drift_skips_mostly_empty_and_required_columns():
    contract = load_contract("roster")
    assert contract.column("name").required and not contract.column("birth_date").required
    previous = DeliveryProfile(row_count=1000, null_rates={"phone": 0.95, "name": 0.0, "birth_date": 0.0})
    suite = drift_suite(contract, previous)
    kinds = [(e.expectation_type, getattr(e, "column", None)) for e in suite.expectations]
    assert kinds == [
        ("expect_table_row_count_to_be_between", None),
        ("expect_column_values_to_not_be_null", "birth_date"),
    ]
    row_count = suite.expectations[0]
    assert (row_count.min_value, row_count.max_value) == (500, 2000)
    assert suite.expectations[1].mostly == pytest.approx(0.9)


# ------------------------------------------------------------------------- what the ingest checks read of a delivery
def test_value_columns_are_those_checked_beyond_nulls(suites):
    contract = load_contract("roster")
    values = value_columns(suites["roster"])
    assert {"id_number", "village_code", "relation", "household_type"} <= values  # regex, code sets, key
    assert not {"name", "household_id", "county_name", "phone", "address"} & values  # not-null or presence only
    assert values <= set(contract.names)


@pytest.mark.parametrize("feed", FEEDS)
def test_checks_read_of_a_damaged_delivery_finds_what_its_full_rows_find(feed, suites):
    """The checks read null patterns instead of the values of columns whose values no suite looks at; the structure
    and drift suites must fail the same way on a damaged delivery read either way."""
    contract = load_contract(feed)
    df = clean_frame(feed, 40)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = _set(df, column, row, value)
    values = value_columns(suites[feed])
    optional = min(
        (c.name for c in contract.columns if not c.required), key=lambda n: n in values
    )  # nulls only, if any
    df = df.with_columns(pl.when(pl.int_range(40) < 12).then(None).otherwise(pl.col(optional)).alias(optional))
    previous = profile(clean_frame(feed, 40), contract)
    con = duckdb.connect()
    con.register("delivery", df.to_arrow())
    full = con.sql(f"SELECT {', '.join(q(n) for n in contract.names)} FROM delivery").pl()
    narrow = con.sql(f"SELECT {checked_columns(contract)} FROM delivery").pl()
    assert narrow[optional].null_count() == 12
    assert {n for n in contract.names if narrow.schema[n] == pl.Int8 and full.schema[n] != pl.Int8} == set(
        contract.names
    ) - values - {n for n in contract.names if full.schema[n] == pl.Int8}
    for suite in (suites[feed], drift_suite(contract, previous)):
        expected, got = validate(full, suite), validate(narrow, suite)
        assert not expected.success and _texts(got) == _texts(expected)
        assert got.evaluated == expected.evaluated


@pytest.mark.parametrize("feed", ["roster", "medical_claims"])  # household_income has no code column
def test_a_large_delivery_checked_on_distinct_values_finds_what_every_row_finds(feed, suites, monkeypatch):
    """On a large frame a code column's allowed values and pattern are checked on its distinct values first: the same
    result, failures, counts and samples as checking every row, with a value damaged in one row or in many."""
    from fangfanpin.data_contracts.gx_suites import validation

    contract = load_contract(feed)
    n = validation.DISTINCT_MIN_ROWS
    df = clean_frame(feed, n)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = _set(df, column, row, value)
    code = next(c.name for c in contract.columns if c.type == "code" and not c.multi and c.name not in contract.key)
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 5).then(pl.lit("坏值")).otherwise(pl.col(code)).alias(code)
    )
    decided: list[int] = []
    decide = validation._decided_on_distinct_values

    def recorded(*args):
        passed, rest = decide(*args)
        decided.append(len(passed))
        return passed, rest

    monkeypatch.setattr(validation, "_decided_on_distinct_values", recorded)
    on_distinct = validate(df, suites[feed])
    assert decided and decided[-1] > 0  # some expectations were decided on distinct values alone
    monkeypatch.setattr(validation, "DISTINCT_MIN_ROWS", n + 1)
    on_every_row = validate(df, suites[feed])
    assert not on_every_row.success
    bad = df.filter(~pl.col(code).is_in(contract.column(code).values)).height
    assert bad >= len(range(5, n, 97)) and [f for f in on_every_row.failures if f.column == code and f.observed == bad]
    assert on_distinct.to_dict() == on_every_row.to_dict()


def test_a_share_of_rows_is_never_decided_on_distinct_values():
    """An expectation that allows a share of bad rows (GX's ``mostly``) counts rows, not values: a hundred good values
    once each and one bad value in every other row fail it, though 100 of its 101 distinct values are good."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    from fangfanpin.data_contracts.gx_suites import validation

    n = validation.DISTINCT_MIN_ROWS
    good = [f"代码{i}" for i in range(100)]
    frame = pl.DataFrame({"code": good + ["坏值"] * (n - len(good))})
    in_set = gxe.ExpectColumnValuesToBeInSet(column="code", value_set=good, mostly=0.9)
    result = validate(frame, gx.ExpectationSuite(name="share", expectations=[in_set]))
    assert not result.success and result.failures[0].observed == n - len(good)


def _suites_that_order_and_condition_rows():
    """(frame, expectations, what every row gives) the structure suites never build but a suite may hold: a
    column's expectations apart, a row condition reading another column, a row count beside decided columns, a
    column's first expectation decided in polars (its group of failures must not move)."""
    import great_expectations.expectations as gxe

    from fangfanpin.data_contracts.gx_suites import validation

    n = validation.DISTINCT_MIN_ROWS
    apart = pl.DataFrame({"a": (["x", "y", None] * n)[:n], "b": (["q", "p"] * n)[:n]})
    ids = pl.format("150625199001{}", pl.int_range(pl.len()).cast(pl.Utf8).str.zfill(6))
    ids_apart = pl.DataFrame({"x": [None] * n}).select(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(ids).alias("x"),
        pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.lit("有")).alias("y"),
    )
    conditioned = pl.DataFrame(
        {"a": ["x"] * (n // 2) + ["y"] * (n - n // 2), "b": ["q"] * (n // 2) + ["p"] * (n - n // 2)}
    )
    return [
        (
            apart,
            [
                gxe.ExpectColumnValuesToBeInSet(column="a", value_set=["x", "y"]),
                gxe.ExpectColumnValuesToBeInSet(column="b", value_set=["p", "q"]),
                gxe.ExpectColumnValuesToNotBeNull(column="a"),
                gxe.ExpectColumnValuesToNotBeNull(column="b"),
            ],
            [("a", "expect_column_values_to_not_be_null", apart["a"].null_count())],
        ),
        (
            conditioned,
            [
                gxe.ExpectColumnValuesToBeInSet(
                    column="a", value_set=["y"], row_condition='b=="q"', condition_parser="pandas"
                ),
                gxe.ExpectColumnValuesToBeInSet(column="b", value_set=["p", "q"]),
            ],
            [("a", "expect_column_values_to_be_in_set", n // 2)],
        ),
        (
            apart,
            [
                gxe.ExpectTableColumnsToMatchSet(column_set=["a", "b"], exact_match=False),
                gxe.ExpectColumnValuesToBeInSet(column="b", value_set=["p", "q"]),
                gxe.ExpectTableRowCountToEqual(value=n),
            ],
            [],
        ),
        (
            ids_apart,
            [
                gxe.ExpectColumnValuesToMatchRegex(column="x", regex=ID_REGEX),  # decided in polars
                gxe.ExpectColumnValuesToNotBeNull(column="y"),
                gxe.ExpectColumnValuesToNotBeNull(column="x"),
            ],
            [("x", "expect_column_values_to_not_be_null", 1), ("y", "expect_column_values_to_not_be_null", 1)],
        ),
    ]


@pytest.mark.parametrize("case", range(4))
def test_a_suite_of_any_order_gives_on_distinct_values_what_every_row_gives(case, monkeypatch):
    """Whatever the order of its expectations, their row conditions or its table-level expectations, a suite gives
    the same result, failures and counts with the distinct-value pass as over every row."""
    import great_expectations as gx

    from fangfanpin.data_contracts.gx_suites import validation

    frame, expectations, expected = _suites_that_order_and_condition_rows()[case]
    suite = gx.ExpectationSuite(name=f"case{case}", expectations=expectations)
    on_distinct = validate(frame, suite)
    assert [(f.column, f.expectation, f.observed) for f in on_distinct.failures] == expected
    monkeypatch.setattr(validation, "DISTINCT_MIN_ROWS", frame.height + 1)
    assert on_distinct.to_dict() == validate(frame, suite).to_dict()


def _keys_damaged(feed: str, damage: str, n: int) -> pl.DataFrame:
    """A large clean frame of ``feed`` whose key is unique and ID numbers well formed, or damaged as ``damage`` says."""
    contract = load_contract(feed)
    df = clean_frame(feed, n)  # a compound key unique already
    if contract.key == ("id_number",):
        df = df.with_columns(
            pl.format("150625199001{}", pl.int_range(pl.len()).cast(pl.Utf8).str.zfill(6)).alias("id_number")
        )
    first = contract.key[0]
    if damage == "one row twice":
        df = _set(df, first, 7, df[first][3]) if len(contract.key) == 1 else pl.concat([df, df.slice(3, 1)])
    elif damage == "many rows twice":
        df = pl.concat([df, df.gather_every(97)])
    elif damage == "missing in two rows":
        df = _set(_set(df, first, 7, None), first, 9, None)
        if len(contract.key) > 1:
            df = pl.concat([df, df.slice(7, 1)])  # and a row whose whole key is missing twice
    elif damage == "IDs malformed":  # a lower-case x, a full-width digit, a trailing line break, one digit short
        for row, bad in enumerate(
            ("15062519900100001x", "15062519900100002１", "150625199001000030\n", "1506251990010004")
        ):
            df = _set(df, "id_number", 11 + row, bad)
    return df


KEY_DAMAGES = ["none", "one row twice", "many rows twice", "missing in two rows"]


@pytest.mark.parametrize(
    ("feed", "damage"),
    [("roster", d) for d in [*KEY_DAMAGES, "IDs malformed"]] + [("household_income", d) for d in KEY_DAMAGES],
)
def test_a_large_delivery_decides_keys_and_patterns_as_gx_decides_them_on_every_row(feed, damage, suites, monkeypatch):
    """On a large frame a key no two rows share (missing values equal, stricter than GX) and an ID pattern every value
    matches pass without GX; otherwise GX decides on every row. Either way the result, failures, counts and samples
    are GX's alone."""
    from fangfanpin.data_contracts.gx_suites import validation

    df = _keys_damaged(feed, damage, validation.DISTINCT_MIN_ROWS)
    decided: list[tuple[str, str | None]] = []
    decide = validation._decided_in_polars

    def recorded(*args):
        passed, rest = decide(*args)
        decided.extend((p.expectation.expectation_type, getattr(p.expectation, "column", None)) for p in passed)
        return passed, rest

    monkeypatch.setattr(validation, "_decided_in_polars", recorded)
    with_polars = validate(df, suites[feed])
    kinds = {kind for kind, _ in decided}
    assert ({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"} & kinds != set()) == (
        damage in ("none", "IDs malformed")
    )
    if feed == "roster":
        assert (("expect_column_values_to_match_regex", "id_number") in decided) == (damage != "IDs malformed")
    monkeypatch.setattr(validation, "DISTINCT_MIN_ROWS", df.height + 1)
    by_gx = validate(df, suites[feed])
    assert with_polars.to_dict() == by_gx.to_dict()
    failed = {f.expectation for f in by_gx.failures}
    assert ("expect_column_values_to_match_regex" in failed) == (damage == "IDs malformed")


def _uniqueness_and_patterns_gx_reads_otherwise():
    """(frame, expectations) that polars alone would pass and GX fails: integers that meet once a missing value makes
    them floats, a float key's missing value and NaN, a pattern with a POSIX class that Python's re (which pandas
    takes for a value with a line break) does not know, a row condition GX cannot read."""
    import great_expectations.expectations as gxe

    from fangfanpin.data_contracts.gx_suites import validation

    n = validation.DISTINCT_MIN_ROWS
    counted = pl.int_range(n, eager=True)
    big = pl.DataFrame({"k": counted}).with_columns(
        pl.when(counted == 0)
        .then(None)
        .when(counted == 1)
        .then(2**53)
        .when(counted == 2)
        .then(2**53 + 1)
        .otherwise(counted)
        .alias("k")
    )
    floats = pl.DataFrame(
        {
            "a": pl.Series([1] * 2 + list(range(2, n)), dtype=pl.Int64),
            "b": pl.Series([float("nan"), None] + [0.0] * (n - 2)),
        }
    )
    texts = pl.DataFrame({"t": ["a\nb"] + [f"{i}" for i in range(1, n)]})
    return [
        (big, [gxe.ExpectColumnValuesToBeUnique(column="k")]),
        (big.with_columns(pl.lit("同").alias("j")), [gxe.ExpectCompoundColumnsToBeUnique(column_list=["k", "j"])]),
        (floats, [gxe.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"])]),
        (texts, [gxe.ExpectColumnValuesToMatchRegex(column="t", regex="^[[:digit:]]+$|^a")]),
        (
            pl.DataFrame({"k": pl.int_range(n, eager=True).cast(pl.Utf8)}),
            [gxe.ExpectColumnValuesToBeUnique(column="k", row_condition="k ==", condition_parser="pandas")],
        ),
    ]


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # Python's re on [[:digit:]], as meant
@pytest.mark.parametrize("case", range(5))
def test_what_gx_reads_otherwise_than_polars_is_left_to_gx(case, monkeypatch):
    """Only keys whose values GX's frame keeps apart and the ID and division patterns are decided in polars: a case
    polars alone would pass fails in GX, and gives GX's result either way."""
    import great_expectations as gx

    from fangfanpin.data_contracts.gx_suites import validation

    frame, expectations = _uniqueness_and_patterns_gx_reads_otherwise()[case]
    suite = gx.ExpectationSuite(name=f"otherwise{case}", expectations=expectations)
    decided = validate(frame, suite)
    monkeypatch.setattr(validation, "DISTINCT_MIN_ROWS", frame.height + 1)
    by_gx = validate(frame, suite)
    assert not by_gx.success
    assert decided.to_dict() == by_gx.to_dict()


def test_a_check_that_gx_cannot_evaluate_says_so_instead_of_failing_the_step(suites):
    """A metric that raises inside GX (a text value where a year's range is checked) is reported as not evaluated,
    with GX's reason: the message used to format a missing count and raise."""
    df = clean_frame("household_income", 20).with_columns(pl.format("K{}", pl.int_range(pl.len())).alias("year"))
    result = validate(df, suites["household_income"])
    [failure] = [f for f in result.failures if f.column == "year"]
    assert failure.observed == "error" and "未能执行" in failure.message_zh
