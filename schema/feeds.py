"""The feed tables: one per data contract, each delivery's rows tagged with ``_delivery_date`` and their lineage,
each feed's point-in-time macro ``<feed>_asof(d)`` and the macro of one delivery's rows ``<feed>_delivery(d)``.

- snapshot feeds: per county, the newest *applied* delivery on or before ``d`` (a held delivery is stored, not used);
- increment feeds: per key, the newest version delivered on or before ``d``.

A snapshot re-sent unchanged may store no rows of its own (``reused_snapshots``): both macros read the rows it
reuses as its own, with its date as ``_delivery_date``. Read a delivery's rows through the macros, never by
``_delivery_date`` in the table.

Identifiers come from the contracts, never from data.
"""

from __future__ import annotations

from fangfanpin.data_contracts import Contract, all_contracts

# the lineage columns every feed row carries: its file, the file's place in the delivery, its row, unknown columns
FILE, FILE_SEQ, ROW, EXTRA = "_file", "_file_seq", "_row", "_extra"
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


def q(identifier: str) -> str:
    """Quote an identifier taken from a contract."""
    return '"' + identifier.replace('"', '""') + '"'


def feed_ddl() -> list[str]:
    ddl = []
    for contract in all_contracts():
        columns = ", ".join(f"{q(c.name)} {SQL_TYPES[c.type]}" for c in contract.columns)
        ddl.append(
            f"CREATE TABLE IF NOT EXISTS {q(contract.feed)} ({columns}, _delivery_date DATE NOT NULL, "
            f"{FILE} VARCHAR, {FILE_SEQ} BIGINT, {ROW} BIGINT, {EXTRA} VARCHAR, county_code VARCHAR)"
        )
        # a column added to a contract reaches a warehouse made before it (rows are inserted by name)
        ddl += [
            f"ALTER TABLE {q(contract.feed)} ADD COLUMN IF NOT EXISTS {q(c.name)} {SQL_TYPES[c.type]}"
            for c in contract.columns
        ]
        ddl += [asof_macro_sql(contract), delivery_macro_sql(contract)]
    return ddl


def stored_under(feed: str, day: str) -> str:
    """SQL: the date whose stored rows are the delivery of ``day`` (an SQL date expression): its own, or those it
    reuses (``reused_snapshots``)."""
    return (
        f"coalesce((SELECT any_value(rows_of) FROM reused_snapshots WHERE feed = '{feed}' AND delivery_date = {day}), "
        f"{day})"
    )


def asof_macro_sql(contract: Contract) -> str:
    feed = contract.feed
    if contract.kind == "snapshot":
        return f"""
            CREATE OR REPLACE MACRO {q(feed + "_asof")}(d) AS TABLE
            SELECT t.* REPLACE (v.version AS _delivery_date) FROM {q(feed)} t
            JOIN (SELECT s.county_code, s.version, coalesce(r.rows_of, s.version) AS stored
                  FROM snapshot_versions_in_force('{feed}', d) s
                  LEFT JOIN reused_snapshots r ON r.feed = '{feed}' AND r.delivery_date = s.version) v
              ON coalesce(t.county_code, '') = v.county_code AND t._delivery_date = v.stored"""
    key = ", ".join(q(k) for k in contract.key)
    return f"""
        CREATE OR REPLACE MACRO {q(feed + "_asof")}(d) AS TABLE
        SELECT * FROM {q(feed)} WHERE _delivery_date <= d
        QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _delivery_date DESC, {FILE_SEQ} DESC, {ROW} DESC) = 1"""


def delivery_macro_sql(contract: Contract) -> str:
    """``<feed>_delivery(d)``: the rows the delivery of ``d`` stored, held or not."""
    feed = contract.feed
    if contract.kind == "snapshot":
        return f"""
            CREATE OR REPLACE MACRO {q(feed + "_delivery")}(d) AS TABLE
            SELECT * REPLACE (d::DATE AS _delivery_date) FROM {q(feed)} WHERE _delivery_date = {stored_under(feed, "d")}"""
    return f"""
        CREATE OR REPLACE MACRO {q(feed + "_delivery")}(d) AS TABLE
        SELECT * FROM {q(feed)} WHERE _delivery_date = d"""
