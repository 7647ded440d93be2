"""The workflow's SQL folder and the ``cases`` table, which the ledger and the day's writing step rebuild."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


def rebuild_cases(con: duckdb.DuckDBPyConnection) -> None:
    """``cases`` := every case as of the newest processed date (derived from case_events only).

    Replaced whole, with no index: DuckDB 2.0 raised a false primary-key violation inserting ~200,000 distinct,
    ordered case ids into the indexed table inside this transaction (the first day of 1,000,000 households).
    Uniqueness comes from case_openings' key, which ``cases_asof`` is built on."""
    con.execute("CREATE OR REPLACE TABLE cases AS SELECT * FROM cases_asof(DATE '9999-12-31') ORDER BY case_id")
