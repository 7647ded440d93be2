"""Who the county visits and in what order (models.targeting), and the card's uncertainty (models.reach)."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest

from fangfanpin.models.reach import first_k, recall_difference
from fangfanpin.models.targeting import (
    priority,
    priority_sql,
    select_warnings,
    severity_rank,
    severity_rank_sql,
    warning_floor,
)

pytestmark = pytest.mark.unit


def test_warnings_fill_each_village_by_rank_above_the_lift_floor():
    keys = pl.DataFrame({"village_code": ["A"] * 5 + ["B"] * 3, "household_id": [f"h{i}" for i in range(8)]})
    p = np.array([0.02, 0.09, 0.05, 0.04, 0.011, 0.5, 0.001, 0.03])
    eligible = np.array([True, True, False, True, True, True, True, True])  # h2 has a rule hit
    floor = warning_floor(2, 0.006)  # 1.2 %: h4 (1.1 %) and h6 are not worth a visit
    got = select_warnings(keys, p, eligible, capacity=2, min_probability=floor, by=["village_code"])
    assert [f"h{i}" for i in np.flatnonzero(got)] == ["h1", "h3", "h5", "h7"]  # A: 9 % and 4 %, not the ruled 5 %
    # a household warned earlier in the week keeps its place; the places already used that week count
    prior = np.array([True] + [False] * 7)
    used = pl.DataFrame({"village_code": ["A"], "used": [1]})
    got = select_warnings(
        keys, p, eligible, capacity=2, min_probability=floor, by=["village_code"], prior=prior, used=used
    )
    assert [f"h{i}" for i in np.flatnonzero(got)] == ["h0", "h1", "h5", "h7"]
    assert not select_warnings(keys, p, eligible, capacity=0, min_probability=floor, by=["village_code"]).any()


def test_priority_is_severity_then_probability_in_numpy_and_sql_alike():
    severity = np.array(["高", "中", None, "高", None, "中"], dtype=object)
    p = np.array([0.001, 0.9, 0.95, np.nan, 0.2, 0.3])
    key = priority(severity_rank(severity), p)
    assert list(np.argsort(-key, kind="stable")) == [0, 3, 1, 5, 2, 4]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INT, severity VARCHAR, probability DOUBLE)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(i, s, None if np.isnan(x) else x) for i, (s, x) in enumerate(zip(severity, p))],
    )
    sql = priority_sql(severity_rank_sql("severity"), "probability")
    got = dict(con.execute(f"SELECT i, {sql} FROM t").fetchall())
    assert np.allclose([got[i] for i in range(len(p))], key)


def test_recall_difference_interval_resamples_households():
    households = np.repeat(np.arange(200), 2).astype(str)  # each household on two dates
    y = np.zeros(400, dtype=int)
    y[:40] = 1
    rules = np.zeros(400, dtype=bool)
    rules[:20] = True
    production = rules.copy()
    production[20:30] = True
    got = recall_difference(households, y, production, rules)
    assert got["difference"] == 0.25 and got["resamples"] == 1000
    lo, hi = got["ci95"]
    assert 0 < lo < 0.25 < hi < 0.5
    assert recall_difference(households, y, production, rules) == got  # fixed seed
    assert recall_difference(households, y, rules, rules)["ci95"] == [0.0, 0.0]


def test_first_k_counts_the_first_tasks_of_each_village_in_each_order():
    f = pl.DataFrame(
        {
            "as_of_date": ["d"] * 4,
            "village_code": ["A"] * 4,
            "household_id": ["a", "b", "c", "d"],
            "rule_high": [1, 0, 0, -1],
            "rule_count": [1, 3, 1, 0],
            "p": [0.01, 0.02, 0.3, 0.4],
        }
    )
    y = np.array([0, 0, 1, 1])
    got = first_k(f, np.ones(4, dtype=bool), y, ks=(1, 2, 3))
    assert got["rules_order"] == {"1": 0.0, "2": 0.0, "3": 0.5}  # a (高), b (3 rules), c
    assert got["priority_order"] == {"1": 0.0, "2": 0.5, "3": 0.5}  # a (高), c (中, 30 %), b
    assert got["probability_order"] == {"1": 0.5, "2": 1.0, "3": 1.0}  # d, c
