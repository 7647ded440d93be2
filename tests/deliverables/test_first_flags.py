"""The tables the scoring keeps beside household_scores (schema/sql/scoring.sql) say what the whole history says:
each household's first flag date, and the households scored per county and date. They hold after a date is scored
again with different flags, and a warehouse scored before they existed gets them from its history."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from deliverables_helpers import FLAGGED, UNFLAG

from fangfanpin.schema import ensure_schema, keep_scored_day

pytestmark = pytest.mark.warehouse

FIRST_FLAGS = "SELECT household_id, first_flag_date FROM household_first_flags ORDER BY ALL"
HISTORY_FIRST_FLAGS = f"""SELECT household_id, min(as_of_date) FROM household_scores WHERE {FLAGGED}
                          GROUP BY 1 ORDER BY ALL"""
SCORED_DATES = "SELECT as_of_date, county_code, households FROM scored_dates ORDER BY ALL"
HISTORY_SCORED_DATES = "SELECT as_of_date, county_code, count(*) FROM household_scores GROUP BY ALL ORDER BY ALL"


@pytest.fixture
def con(warehouse, tmp_path):
    shutil.copy(warehouse / "wh.duckdb", tmp_path / "wh.duckdb")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield con
    con.close()


def _kept_as_history_says(con) -> None:
    assert con.execute(FIRST_FLAGS).fetchall() == con.execute(HISTORY_FIRST_FLAGS).fetchall()
    assert con.execute(SCORED_DATES).fetchall() == con.execute(HISTORY_SCORED_DATES).fetchall()


def test_kept_through_the_loop_and_dates_scored_again(con):
    _kept_as_history_says(con)
    dates = [r[0] for r in con.execute("SELECT DISTINCT as_of_date FROM household_scores ORDER BY 1").fetchall()]
    first, last = dates[0], dates[-1]
    moved_on, dropped = (
        r[0]
        for r in con.execute(
            f"""SELECT household_id FROM household_first_flags WHERE first_flag_date = $first AND household_id IN
                (SELECT household_id FROM household_scores WHERE as_of_date = $last AND {FLAGGED})
                ORDER BY 1 LIMIT 2""",
            {"first": first, "last": last},
        ).fetchall()
    )

    def scored_again(day, where: str, params: list, setting: str = UNFLAG) -> dict:
        con.execute(f"UPDATE household_scores SET {setting} WHERE {where}", params)
        keep_scored_day(con, day)
        _kept_as_history_says(con)
        return dict(con.execute(FIRST_FLAGS).fetchall())

    # the first date scored again: one household is no longer flagged on it, and a county is no longer scored on it
    gone = (first, "150626")
    assert gone in {r[:2] for r in con.execute(SCORED_DATES).fetchall()}
    con.execute("DELETE FROM household_scores WHERE as_of_date = ? AND county_code = ?", list(gone))
    kept = scored_again(first, "as_of_date = ? AND household_id = ?", [first, moved_on])
    assert gone not in {r[:2] for r in con.execute(SCORED_DATES).fetchall()}
    assert first < kept[moved_on] <= last
    # every date scored again without the other's flag: it has none; then the newest date flags it again
    kept = scored_again(first, "household_id = ?", [dropped])
    assert dropped not in kept
    kept = scored_again(last, "as_of_date = ? AND household_id = ?", [last, dropped], "model_warning = true")
    assert kept[dropped] == last


def test_a_warehouse_scored_before_they_existed_gets_them_from_its_history(con):
    con.execute("DROP TABLE household_first_flags; DROP TABLE scored_dates; DELETE FROM ffp_schema")
    ensure_schema(con)
    assert con.execute("SELECT count(*) FROM household_first_flags").fetchall()[0][0] > 0
    _kept_as_history_says(con)
    con.execute("DELETE FROM ffp_schema")  # the schema brought up to date again, the tables kept: nothing to add
    ensure_schema(con)
    _kept_as_history_says(con)
