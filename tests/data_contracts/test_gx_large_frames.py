"""Large deliveries: expectations decided on a column's distinct values or in polars give what GX gives on every
row (data_contracts.gx_suites.validation)."""

from __future__ import annotations

import polars as pl
import pytest
from gx_helpers import DEFECTS, DISTINCT_IDS, clean_frame, set_value

from fangfanpin.data_contracts import load_contract
from fangfanpin.data_contracts.gx_suites import validate, validation
from fangfanpin.data_contracts.gx_suites.suites import ID_REGEX

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("feed", ["roster", "medical_claims"])  # household_income has no code column
def test_a_large_delivery_checked_on_distinct_values_finds_what_every_row_finds(feed, suites, monkeypatch):
    """On a large frame a code column's allowed values and pattern are checked on its distinct values first: the same
    result, failures, counts and samples as checking every row, with a value damaged in one row or in many."""
    contract = load_contract(feed)
    n = validation.DISTINCT_MIN_ROWS
    df = clean_frame(feed, n)
    for row, (column, value, _, _) in enumerate(DEFECTS[feed], start=1):
        df = set_value(df, column, row, value)
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

    n = validation.DISTINCT_MIN_ROWS
    apart = pl.DataFrame({"a": (["x", "y", None] * n)[:n], "b": (["q", "p"] * n)[:n]})
    ids_apart = pl.DataFrame({"x": [None] * n}).select(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(DISTINCT_IDS).alias("x"),
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
        df = df.with_columns(DISTINCT_IDS.alias("id_number"))
    first = contract.key[0]
    if damage == "one row twice":
        df = set_value(df, first, 7, df[first][3]) if len(contract.key) == 1 else pl.concat([df, df.slice(3, 1)])
    elif damage == "many rows twice":
        df = pl.concat([df, df.gather_every(97)])
    elif damage == "missing in two rows":
        df = set_value(set_value(df, first, 7, None), first, 9, None)
        if len(contract.key) > 1:
            df = pl.concat([df, df.slice(7, 1)])  # and a row whose whole key is missing twice
    elif damage == "IDs malformed":  # a lower-case x, a full-width digit, a trailing line break, one digit short
        for row, bad in enumerate(
            ("15062519900100001x", "15062519900100002１", "150625199001000030\n", "1506251990010004")
        ):
            df = set_value(df, "id_number", 11 + row, bad)
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
    df = _keys_damaged(feed, damage, validation.DISTINCT_MIN_ROWS)
    decided: list[tuple[str, str | None]] = []
    decide = validation._decided_in_polars

    def recorded(*args):
        passed, rest = decide(*args)
        decided.extend((p.expectation.expectation_type, getattr(p.expectation, "column", None)) for p in passed)
        return passed, rest

    monkeypatch.setattr(validation, "_decided_in_polars", recorded)
    with_polars = validate(df, suites[feed])
    assert any(kind.endswith("_to_be_unique") for kind, _ in decided) == (damage in ("none", "IDs malformed"))
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

    frame, expectations = _uniqueness_and_patterns_gx_reads_otherwise()[case]
    suite = gx.ExpectationSuite(name=f"otherwise{case}", expectations=expectations)
    decided = validate(frame, suite)
    monkeypatch.setattr(validation, "DISTINCT_MIN_ROWS", frame.height + 1)
    by_gx = validate(frame, suite)
    assert not by_gx.success
    assert decided.to_dict() == by_gx.to_dict()
