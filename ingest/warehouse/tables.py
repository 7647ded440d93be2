"""The ingest tables (one per feed, tagged with ``_delivery_date``; quarantine, reports, deliveries, snapshot
versions) and each feed's point-in-time macro ``<feed>_asof(d)``, created once per warehouse."""

from __future__ import annotations

import hashlib

import duckdb

from fangfanpin.data_contracts import Contract, all_contracts
from fangfanpin.ingest.headers import EXTRA, FILE, FILE_SEQ
from fangfanpin.ingest.landing import LANDING_DDL
from fangfanpin.ingest.read import ROW

SQL_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "id": "VARCHAR",
    "division": "VARCHAR",
    "date": "DATE",
    "amount": "DOUBLE",
    "int": "BIGINT",
    "yesno": "BOOLEAN",
}
LINEAGE = ["_delivery_date", FILE, FILE_SEQ, ROW, EXTRA, "county_code"]
APPLIED = ("applied", "accepted")
UNPLACED = ""  # the county bucket of rows that could not be placed

ISSUE_TABLE_COLUMNS = """
    delivery_date DATE NOT NULL, feed VARCHAR NOT NULL, department VARCHAR, file VARCHAR, "row" BIGINT,
    "column" VARCHAR, raw_value VARCHAR, problem VARCHAR NOT NULL, county_code VARCHAR
"""


def q(identifier: str) -> str:
    """Quote an identifier taken from a contract."""
    return '"' + identifier.replace('"', '""') + '"'


def run_ddl_once(con: duckdb.DuckDBPyConnection, component: str, statements: list[str]) -> bool:
    """Run ``statements`` unless this exact DDL already ran on this warehouse; returns whether it ran.

    Every DDL statement is a commit on disk and every asset opens its own connection, so re-running the same
    CREATE ... IF NOT EXISTS each time costs a run seconds. A digest of the statements is kept in ``ffp_schema``;
    changing the DDL (a contract, a macro) changes the digest and the statements run again.
    """
    digest = hashlib.sha256("\n;\n".join(statements).encode("utf-8")).hexdigest()
    con.execute("CREATE TABLE IF NOT EXISTS ffp_schema (component VARCHAR PRIMARY KEY, digest VARCHAR)")
    if con.execute(
        "SELECT count(*) FROM ffp_schema WHERE component = ? AND digest = ?", [component, digest]
    ).fetchall()[0][0]:
        return False
    for statement in statements:
        con.execute(statement).fetchall()
    con.execute("INSERT OR REPLACE INTO ffp_schema VALUES (?, ?)", [component, digest])
    return True


def ingest_ddl() -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS quarantine ({ISSUE_TABLE_COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS ingest_reports ({ISSUE_TABLE_COLUMNS})",
        """CREATE TABLE IF NOT EXISTS deliveries (
            feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, kind VARCHAR, files VARCHAR,
            rows_read BIGINT, rows_loaded BIGINT, duplicates BIGINT, resent BIGINT, superseded BIGINT,
            quarantined BIGINT, status VARCHAR NOT NULL, message VARCHAR, profile VARCHAR,
            PRIMARY KEY (feed, delivery_date))""",
        """CREATE TABLE IF NOT EXISTS snapshot_versions (
            feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, county_code VARCHAR NOT NULL, rows BIGINT,
            previous_rows BIGINT, status VARCHAR NOT NULL, reason VARCHAR,
            PRIMARY KEY (feed, delivery_date, county_code))""",
        """CREATE TABLE IF NOT EXISTS operator_acceptances (
            feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, PRIMARY KEY (feed, delivery_date))""",
        LANDING_DDL,
    ]
    for contract in all_contracts():
        columns = ", ".join(f"{q(c.name)} {SQL_TYPES[c.type]}" for c in contract.columns)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {q(contract.feed)} ({columns}, _delivery_date DATE NOT NULL, "
            f"{FILE} VARCHAR, {FILE_SEQ} BIGINT, {ROW} BIGINT, {EXTRA} VARCHAR, county_code VARCHAR)"
        )
        statements.append(asof_macro_sql(contract))
    return statements


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    run_ddl_once(con, "ingest", ingest_ddl())


def asof_macro_sql(contract: Contract) -> str:
    feed = contract.feed
    if contract.kind == "snapshot":
        return f"""
            CREATE OR REPLACE MACRO {q(feed + "_asof")}(d) AS TABLE
            SELECT t.* FROM {q(feed)} t
            JOIN (SELECT county_code, max(delivery_date) AS version FROM snapshot_versions
                  WHERE feed = '{feed}' AND status IN ('applied', 'accepted') AND delivery_date <= d
                  GROUP BY county_code) v
              ON coalesce(t.county_code, '') = v.county_code AND t._delivery_date = v.version"""
    key = ", ".join(q(k) for k in contract.key)
    return f"""
        CREATE OR REPLACE MACRO {q(feed + "_asof")}(d) AS TABLE
        SELECT * FROM {q(feed)} WHERE _delivery_date <= d
        QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _delivery_date DESC, {FILE_SEQ} DESC, {ROW} DESC) = 1"""
