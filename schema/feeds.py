"""The feed tables: one per data contract, each delivery's rows tagged with ``_delivery_date`` and their lineage,
and each feed's point-in-time macro ``<feed>_asof(d)``.

- snapshot feeds: per county, the newest *applied* delivery on or before ``d`` (a held delivery is stored, not used);
- increment feeds: per key, the newest version delivered on or before ``d``.

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
        ddl.append(asof_macro_sql(contract))
    return ddl


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
