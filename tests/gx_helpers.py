"""Typed frames for the Great Expectations tests: clean ones for any contract, and the defects that break them."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fangfanpin.data_contracts import load_contract

IDS = [f"15062519900101{n:03d}{d}" for n, d in zip(range(100, 110), "123456789X")]
# a well-formed ID number a row (its pattern's, not its check digit's), distinct over a million rows
DISTINCT_IDS = pl.format("150625199001{}", pl.int_range(pl.len()).cast(pl.Utf8).str.zfill(6))


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


def set_value(df: pl.DataFrame, column: str, row: int, value) -> pl.DataFrame:
    values = df[column].to_list()
    values[row] = value
    return df.with_columns(pl.Series(column, values, dtype=df[column].dtype))


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


FEEDS = ["roster", "medical_claims", "household_income"]
