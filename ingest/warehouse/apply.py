"""Applying a prepared delivery: its date's rows replaced in one transaction, re-sent rows dropped, replaced
versions reported, issues stored and placed, and a snapshot versioned (held when it shrank too much)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered
from fangfanpin.core.sql import transaction
from fangfanpin.core.testhooks import kill_point
from fangfanpin.data_contracts import Contract
from fangfanpin.ingest.headers import EXTRA, FILE, FILE_SEQ
from fangfanpin.ingest.prepare import PreparedDelivery
from fangfanpin.ingest.read import ROW
from fangfanpin.ingest.warehouse.placement import (
    insert_issues,
    place_issues,
    place_reports,
    placement_sql,
    report_unplaced,
    unplace_other_regions,
)
from fangfanpin.schema import q, stored_under

SAME_AS = "与上次交付相同（{:%Y-%m-%d}），未重新解析"


@dataclass
class ApplyResult:
    status: str  # applied, held, partial (some counties held), no_delivery, rejected
    message: str
    rows_stored: int  # the delivery's rows, stored under its date or reused from an earlier one
    resent: int
    replaced: int = 0  # rows that replace a version of the same key delivered earlier (reported with old → new)


def apply_delivery(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedDelivery,
    *,
    shrink_ratio: float,
    profile: dict | None = None,
    region_counties: frozenset[str] | None = None,
) -> ApplyResult:
    """Replace ``prepared``'s date in the warehouse, in one transaction. With ``region_counties`` (a region's run),
    a row placed in any other county is kept unplaced and reported (config/regions.yaml)."""
    contract, day = prepared.contract, prepared.delivery_date
    with transaction(con):
        _delete_day(con, contract, day)
        stored, resent, replaced = _store_rows(con, prepared, region_counties)
        report_unplaced(con, contract, day)
        if region_counties is not None:
            unplace_other_regions(con, contract, day, sorted(region_counties))
        insert_issues(con, "quarantine", prepared.quarantine, contract, day)
        insert_issues(con, "ingest_reports", prepared.reports, contract, day)
        if prepared.reports.height:  # the only reports about a stored row that can lack its county
            place_reports(con, contract, day)
        if prepared.quarantine.height or prepared.reports.height or resent:  # else no issue lacks a county to find
            place_issues(con, prepared, region_counties)
        if prepared.issue_keys is not None:
            with registered(con, "issue_key_rows", _stored_keys(contract, prepared.issue_keys)):
                con.execute(
                    'INSERT INTO issue_keys SELECT ?, ?, file, "row", village_code, household_id, id_number '
                    "FROM issue_key_rows",
                    [contract.feed, day],
                )
        if contract.kind == "snapshot":
            status, message = _version_snapshot(con, contract, day, shrink_ratio, stored, prepared)
        else:
            status, message = ("applied", f"新增 {stored} 行") if prepared.files else ("no_delivery", "本日无交付")
        if prepared.files and all(f.rejected for f in prepared.files):
            status, message = (
                "rejected",
                "本日交付的文件全部被拒收："
                + "；".join(
                    prepared.quarantine.filter(pl.col("row").is_null() | (pl.col("row") <= 2))
                    .get_column("problem")
                    .unique(maintain_order=True)
                    .head(3)
                    .to_list()
                ),
            )
        if prepared.same_as is not None:
            message = f"{message}（{SAME_AS.format(prepared.same_as)}）"
        con.execute(
            "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                contract.feed,
                day,
                contract.kind,
                json.dumps([f.__dict__ for f in prepared.files], ensure_ascii=False),
                prepared.rows_read,
                stored,
                prepared.duplicates,
                resent,
                prepared.superseded,
                prepared.quarantined_rows,
                status,
                message,
                json.dumps(profile, ensure_ascii=False) if profile else None,
                prepared.fingerprint,
                prepared.same_as,
            ],
        )
        con.execute("DROP TABLE placed")
        kill_point("ingest")
    return ApplyResult(status=status, message=message, rows_stored=stored, resent=resent, replaced=replaced)


def _delete_day(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    """Remove what an earlier run of this date stored: everything of a delivery is written in one transaction with
    its row in ``deliveries``, so without that row there is nothing to remove."""
    if not con.execute(
        "SELECT count(*) FROM deliveries WHERE feed = ? AND delivery_date = ?", [contract.feed, day]
    ).fetchall()[0][0]:
        return
    _keep_reusers_whole(con, contract, day)
    con.execute(f"DELETE FROM {q(contract.feed)} WHERE _delivery_date = ?", [day])
    for table in ("reused_snapshots", "quarantine", "ingest_reports", "deliveries", "snapshot_versions", "issue_keys"):
        con.execute(f"DELETE FROM {table} WHERE feed = ? AND delivery_date = ?", [contract.feed, day])


def _stored_keys(contract: Contract, keys: pl.DataFrame) -> pl.DataFrame:
    """``PreparedDelivery.issue_keys`` in the columns of the table ``issue_keys``."""
    placement = contract.placement_columns
    ids = [c for c in placement if c not in ("village_code", "household_id")]
    return keys.select(
        "file",
        "row",
        *[(pl.col(c) if c in placement else pl.lit(None, pl.Utf8)).alias(c) for c in ("village_code", "household_id")],
        (pl.col(ids[0]) if ids else pl.lit(None, pl.Utf8)).alias("id_number"),
    )


def _store_rows(
    con: duckdb.DuckDBPyConnection, prepared: PreparedDelivery, region_counties: frozenset[str] | None
) -> tuple[int, int, int]:
    """Insert the delivery's rows, placed in a county; temp table ``placed`` keeps what the checks need. A snapshot
    re-sent unchanged (``same_as``) is placed again on its own date: when every row lands where it did, the delivery
    reuses the stored rows (``reused_snapshots``), else they are copied under its date.
    Returns (rows stored, re-sent rows dropped, rows replacing an earlier version)."""
    contract, day, feed = prepared.contract, prepared.delivery_date, q(prepared.contract.feed)
    if prepared.same_as is not None:
        _reuse_rows(con, contract, day, prepared.same_as, region_counties)
        return con.execute("SELECT count(*) FROM placed").fetchall()[0][0], 0, 0
    join, county = placement_sql(con, contract, day)
    columns = ", ".join(f"s.{q(n)}" for n in contract.names)
    staged = prepared.rows.select(*contract.names, FILE, FILE_SEQ, ROW, EXTRA)
    params = [day] + ([day] if join else [])
    select = (
        f"SELECT {columns}, ?::DATE AS _delivery_date, s.{FILE}, s.{FILE_SEQ}, s.{ROW}, s.{EXTRA}, "
        f"{county} AS county_code FROM staged_rows s {join}"
    )
    resent = replaced = 0
    with registered(con, "staged_rows", staged):
        if contract.kind == "increment":  # small daily files: stage, drop re-sent rows, report replaced ones, insert
            con.execute(f"CREATE OR REPLACE TEMP TABLE placed AS {select}", params)
            if staged.height:
                _gather_earlier_versions(con, contract, day)
                resent = _drop_resent(con, contract, day)
                replaced = _report_replaced(con, contract, day)
                con.execute("DROP TABLE earlier_versions")
                con.execute(f"INSERT INTO {feed} BY NAME SELECT * FROM placed")
        else:  # snapshots can be millions of rows: insert once, keep only what the checks below need
            con.execute(f"INSERT INTO {feed} BY NAME {select}", params)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE placed AS SELECT {FILE}, {ROW}, county_code FROM {feed} "
                "WHERE _delivery_date = ?",
                [day],
            )
    return con.execute("SELECT count(*) FROM placed").fetchall()[0][0], resent, replaced


def _reuse_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    day: date,
    same_as: date,
    region_counties: frozenset[str] | None,
) -> None:
    """Place the rows of ``same_as`` again on ``day`` (temp table ``placed``). When each lands in the county it is
    stored with (a row outside the run's region stored without one), record that ``day`` reuses them; else store
    them again under ``day`` with the counties just found."""
    join, county = placement_sql(con, contract, day)
    (rows_of,) = con.execute(f"SELECT {stored_under(contract.feed, '$d::DATE')}", {"d": same_as}).fetchall()[0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE placed AS
            SELECT s.{FILE}, s.{ROW}, {county} AS county_code, s.county_code AS stored_county
            FROM (SELECT * FROM {q(contract.feed)} WHERE _delivery_date = ?) s {join}""",
        [rows_of] + ([day] if join else []),
    )
    stored_as = (
        "county_code"
        if region_counties is None
        else "CASE WHEN list_contains(?::VARCHAR[], county_code) THEN county_code END"
    )
    moved = con.execute(
        f"SELECT count(*) FROM placed WHERE ({stored_as}) IS DISTINCT FROM stored_county",
        [] if region_counties is None else [sorted(region_counties)],
    ).fetchall()[0][0]
    con.execute("ALTER TABLE placed DROP COLUMN stored_county")
    if not moved:
        con.execute("INSERT INTO reused_snapshots VALUES (?, ?, ?)", [contract.feed, day, rows_of])
        return
    # a delivery's rows are told apart by file and row
    con.execute(
        f"""INSERT INTO {q(contract.feed)} SELECT t.* REPLACE (?::DATE AS _delivery_date, p.county_code AS county_code)
            FROM {q(contract.feed)} t JOIN placed p ON p.{FILE} = t.{FILE} AND p.{ROW} = t.{ROW}
            WHERE t._delivery_date = ?""",
        [day, rows_of],
    )


def _keep_reusers_whole(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    """Before ``day``'s stored rows are replaced, the first later delivery reusing them gets its own copy, and any
    after it reuse that copy instead."""
    (first,) = con.execute(
        "SELECT min(delivery_date) FROM reused_snapshots WHERE feed = ? AND rows_of = ?", [contract.feed, day]
    ).fetchall()[0]
    if first is None:
        return
    con.execute(
        f"INSERT INTO {q(contract.feed)} SELECT * REPLACE (?::DATE AS _delivery_date) FROM {q(contract.feed)} "
        "WHERE _delivery_date = ?",
        [first, day],
    )
    con.execute("DELETE FROM reused_snapshots WHERE feed = ? AND delivery_date = ?", [contract.feed, first])
    con.execute("UPDATE reused_snapshots SET rows_of = ? WHERE feed = ? AND rows_of = ?", [first, contract.feed, day])


def _gather_earlier_versions(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    """Temp table ``earlier_versions``: the rows delivered before ``day`` under a key of the staged rows, all that
    telling re-sent and replaced rows apart reads. An increment's history grows every day; the day's keys are few."""
    same_key = " AND ".join(f"e.{q(k)} = p.{q(k)}" for k in contract.key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE earlier_versions AS
            SELECT e.* FROM {q(contract.feed)} e SEMI JOIN placed p ON {same_key} WHERE e._delivery_date < ?""",
        [day],
    )


def _drop_resent(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> int:
    """Remove staged rows identical to a version already delivered earlier (a re-sent file) and report them."""
    same_key = " AND ".join(f"e.{q(k)} = p.{q(k)}" for k in contract.key)
    same_row = " AND ".join(f"e.{q(n)} IS NOT DISTINCT FROM p.{q(n)}" for n in contract.names)
    earlier = f"SELECT 1 FROM earlier_versions e WHERE {same_key} AND {same_row}"
    con.execute(
        "INSERT INTO ingest_reports SELECT ?, ?, ?, p._file, p._row, ?, NULL, "
        "'与此前交付的记录完全相同（重复发送），计为重复，不再载入', p.county_code "
        f"FROM placed p WHERE EXISTS ({earlier})",
        [day, contract.feed, contract.department, "、".join(contract.column(k).header for k in contract.key)],
    )
    before = con.execute("SELECT count(*) FROM placed").fetchall()[0][0]
    con.execute(f"DELETE FROM placed p WHERE EXISTS ({earlier})")
    return before - con.execute("SELECT count(*) FROM placed").fetchall()[0][0]


def _report_replaced(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> int:
    """A row whose key was delivered before with other values replaces that version from today on: reported with
    the version it replaces and, per changed column, the old and the new value (in the raw value, which leaves the
    warehouse masked), so that a re-sent correction is never silent."""
    same_key = " AND ".join(f"e.{q(k)} = p.{q(k)}" for k in contract.key)
    others = [c for c in contract.columns if c.name not in contract.key]
    changed = [f"e.{q(c.name)} IS DISTINCT FROM p.{q(c.name)}" for c in others]
    if not changed:
        return 0
    columns = (
        "concat_ws('、', "
        + ", ".join(f"CASE WHEN e.{q(c.name)} IS DISTINCT FROM p.{q(c.name)} THEN ? END" for c in others)
        + ")"
    )
    values = (
        "concat_ws('；', "
        + ", ".join(
            f"CASE WHEN e.{q(c.name)} IS DISTINCT FROM p.{q(c.name)} THEN ? || '：' || coalesce(e.{q(c.name)}::VARCHAR, '空')"
            f" || ' → ' || coalesce(p.{q(c.name)}::VARCHAR, '空') END"
            for c in others
        )
        + ")"
    )
    headers = [c.header for c in others]
    return con.execute(
        f"""INSERT INTO ingest_reports
            SELECT ?, ?, ?, p._file, p._row, {columns}, {values},
                   format('替换了 {{}} 交付的同一记录（{{}}相同，内容不同），自本日起以本次为准；原值列出各列的旧值 → 新值',
                          strftime(e._delivery_date, '%Y-%m-%d'), ?), p.county_code
            FROM placed p JOIN (
                SELECT * FROM earlier_versions
                QUALIFY row_number() OVER (PARTITION BY {", ".join(q(k) for k in contract.key)}
                                           ORDER BY _delivery_date DESC, {FILE_SEQ} DESC, {ROW} DESC) = 1) e
              ON {same_key}
            WHERE {" OR ".join(changed)}""",
        [
            day,
            contract.feed,
            contract.department,
            *headers,
            *headers,
            "、".join(contract.column(k).header for k in contract.key),
        ],
    ).fetchall()[0][0]


def _version_snapshot(
    con, contract: Contract, day: date, shrink_ratio: float, stored: int, prepared: PreparedDelivery
) -> tuple[str, str]:
    if not prepared.files:
        last = con.execute(
            "SELECT max(delivery_date) FROM snapshot_versions WHERE feed = ? AND delivery_date < ? AND status IN ('applied','accepted')",
            [contract.feed, day],
        ).fetchall()[0][0]
        if last is None:
            return "no_delivery", "本日无交付，尚无可用快照"
        return "no_delivery", f"本日无交付，沿用 {last.isoformat()} 的快照（已 {(day - last).days} 天）"
    if stored == 0:
        return "held", "快照为空（0 行可用），未替换上一期数据"
    accepted = (
        con.execute(
            "SELECT count(*) FROM operator_acceptances WHERE feed = ? AND delivery_date = ?", [contract.feed, day]
        ).fetchall()[0][0]
        > 0
    )
    con.execute(
        """
        INSERT INTO snapshot_versions
        WITH counts AS (SELECT coalesce(county_code, '') AS county_code, count(*) AS rows FROM placed GROUP BY 1),
        previous AS (
            SELECT v.county_code, v.rows FROM snapshot_versions v
            WHERE v.feed = ? AND v.delivery_date < ? AND v.status IN ('applied', 'accepted')
            QUALIFY row_number() OVER (PARTITION BY v.county_code ORDER BY v.delivery_date DESC) = 1)
        SELECT ?, ?, c.county_code, c.rows, p.rows,
               CASE WHEN p.rows IS NOT NULL AND c.county_code <> '' AND c.rows < ? * p.rows
                    THEN (CASE WHEN ? THEN 'accepted' ELSE 'held' END) ELSE 'applied' END,
               CASE WHEN p.rows IS NOT NULL AND c.county_code <> '' AND c.rows < ? * p.rows
                    THEN format('快照行数 {} 不足上一期 {} 行的 {}%', c.rows, p.rows, round(? * 100)::INT) END
        FROM counts c LEFT JOIN previous p USING (county_code)
        """,
        [contract.feed, day, contract.feed, day, shrink_ratio, accepted, shrink_ratio, shrink_ratio],
    )
    held = con.execute(
        "SELECT county_code, reason FROM snapshot_versions WHERE feed = ? AND delivery_date = ? AND status = 'held' ORDER BY 1",
        [contract.feed, day],
    ).fetchall()
    if not held:
        return "applied", f"快照 {stored} 行已替换上一期" + ("（操作员已确认接受）" if accepted else "")
    reasons = "；".join(f"{county}：{reason}" for county, reason in held)
    total = con.execute(
        "SELECT count(*) FROM snapshot_versions WHERE feed = ? AND delivery_date = ?", [contract.feed, day]
    ).fetchall()[0][0]
    status = "held" if len(held) == total else "partial"
    return status, f"快照骤减，暂不采用，上一期数据继续有效，待操作员确认（fangfanpin accept）：{reasons}"
