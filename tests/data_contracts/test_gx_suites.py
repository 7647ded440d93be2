"""Great Expectations suites built from the data contracts (data_contracts.gx_suites)."""

from __future__ import annotations

import json
import re

import duckdb
import polars as pl
import pytest
from gx_helpers import DEFECTS, FEEDS, IDS, clean_frame, set_value

from fangfanpin.assets.ingest.checks import checked_columns
from fangfanpin.data_contracts import load_contract
from fangfanpin.data_contracts.gx_suites import (
    DeliveryProfile,
    SuiteResult,
    drift_suite,
    profile,
    validate,
    value_columns,
)
from fangfanpin.ingest.warehouse import q

pytestmark = pytest.mark.unit

FULL_ID = re.compile(r"\d{15,}")


def _texts(result: SuiteResult) -> list[str]:
    return [f"{f.observed} {f.message_zh}" for f in result.failures]


def _assert_masked(result: SuiteResult) -> None:
    for text in _texts(result):
        assert not FULL_ID.search(text), text
    json.dumps(result.to_dict(), ensure_ascii=False)  # JSON-friendly


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


@pytest.mark.parametrize("feed", FEEDS)
def test_each_defect_fails_naming_the_column_in_chinese(feed, suites):
    df = clean_frame(feed)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = set_value(df, column, row, value)
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
        df = set_value(df, column, row, value)
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
    df = set_value(clean_frame("roster"), "id_number", 4, IDS[3])
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
    clean, broken = clean_frame("roster"), set_value(clean_frame("roster"), "id_number", 4, IDS[3])
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
        validate(set_value(frame, "relation", 3, "表哥") if broken else frame, suites["roster"])
        del frame
        gc.collect()
        alive = [o for o in gc.get_objects() if isinstance(o, (pd.DataFrame, pd.Series, pl.DataFrame, pl.Series))]
        assert not [o for o in alive if len(o) == rows]


def test_duplicate_compound_key(suites):
    df = set_value(clean_frame("household_income"), "household_id", 4, "H3")
    df = set_value(df, "year", 4, df["year"][3])
    result = validate(df, suites["household_income"])
    [f] = [f for f in result.failures if f.expectation == "expect_compound_columns_to_be_unique"]
    assert f.column == "household_id,year"
    assert f.message_zh.startswith("键 (户编号, 年度) 有 2 行重复")


def test_duplicate_key_in_medical_claims(suites):
    df = set_value(clean_frame("medical_claims"), "settlement_id", 1, "K0")
    result = validate(df, suites["medical_claims"])
    assert any(f.message_zh.startswith("键 (结算流水号)") for f in result.failures), _texts(result)


def test_signed_amounts_may_be_negative(suites):
    df = set_value(clean_frame("medical_claims"), "total_cost", 2, -300.0)
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
        df = set_value(df, "id_number", row, bad)
    result = validate(df, suites["roster"])
    [f] = [f for f in result.failures if f.expectation.endswith("match_regex") and f.column == "id_number"]
    assert f.observed == 4
    _assert_masked(result)
    assert "1234" in f.message_zh  # last four kept
    assert "19900101" not in f.message_zh


def test_profile_roundtrip():
    df = set_value(clean_frame("household_income"), "wage_income", 0, None)
    p = profile(df, load_contract("household_income"))
    assert p.row_count == 10
    assert p.null_rates["wage_income"] == pytest.approx(0.1)
    assert "_row" not in p.null_rates and "county_code" not in p.null_rates
    assert DeliveryProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert profile(df).null_rates == p.null_rates  # without a contract: every non-lineage column


def test_drift_passes_on_similar_delivery():
    contract = load_contract("household_income")
    previous = profile(clean_frame("household_income", 100), contract)
    current = set_value(clean_frame("household_income", 120), "wage_income", 0, None)  # +20% rows, +0.8% nulls
    result = validate(current, drift_suite(contract, previous))
    assert result.success, _texts(result)
    # row count, and the null rate of every column the structure suite does not already want without nulls
    assert result.evaluated == 1 + len([c for c in contract.columns if not c.required])


def test_drift_fails_on_row_spike():
    contract = load_contract("medical_claims")
    previous = profile(clean_frame("medical_claims", 20), contract)
    result = validate(clean_frame("medical_claims", 200), drift_suite(contract, previous))
    [f] = result.failures
    assert f.expectation == "expect_table_row_count_to_be_between" and f.observed == 200 and f.column is None
    assert f.message_zh.startswith("行数 200 与上次交付 20 相比变化过大")


def test_drift_row_count_sees_full_height_when_sampling():
    contract = load_contract("medical_claims")
    previous = profile(clean_frame("medical_claims", 20), contract)
    result = validate(clean_frame("medical_claims", 200), drift_suite(contract, previous), max_rows=50)
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
        df = set_value(df, column, row, value)
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


def test_a_check_that_gx_cannot_evaluate_says_so_instead_of_failing_the_step(suites):
    """A metric that raises inside GX (a text value where a year's range is checked) is reported as not evaluated,
    with GX's reason: the message used to format a missing count and raise."""
    df = clean_frame("household_income", 20).with_columns(pl.format("K{}", pl.int_range(pl.len())).alias("year"))
    result = validate(df, suites["household_income"])
    [failure] = [f for f in result.failures if f.column == "year"]
    assert failure.observed == "error" and "未能执行" in failure.message_zh
