"""The warehouse side of ingest: tables, point-in-time macros, and applying a prepared delivery idempotently.

Every feed has one table holding every delivery's rows, tagged with ``_delivery_date``. Re-running a date deletes
that date's rows and inserts them again (one transaction), so a date can be replayed any number of times.

- snapshot feeds: ``<feed>_asof(d)`` is, per county, the newest *applied* delivery on or before ``d``; a delivery
  that shrank below the policy ratio is stored but held until an operator accepts it.
- increment feeds: ``<feed>_asof(d)`` is, per key, the newest version delivered on or before ``d``; a re-sent row
  identical to one already delivered is counted as a duplicate and not stored again.

Identifiers in SQL come from the contracts (never from data); every data value is a bound parameter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered
from fangfanpin.core.sql import transaction
from fangfanpin.core.testhooks import kill_point
from fangfanpin.data_contracts import Contract, all_contracts
from fangfanpin.ingest.landing import LANDING_DDL
from fangfanpin.ingest.prepare import EXTRA, FILE, FILE_SEQ, PreparedDelivery
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


def _placement_sql(contract: Contract) -> tuple[str, str]:
    """(join clause, county expression) placing each staged row ``s`` in a county."""
    persons = "(SELECT id_number, household_id, county_code FROM roster_asof(?::DATE))"
    by_village = "CASE WHEN length(s.village_code) = 12 THEN substr(s.village_code, 1, 6) END"
    if contract.placement == "village_code":
        return "", by_village
    if contract.placement == "household_id":
        join = f"LEFT JOIN (SELECT household_id, any_value(county_code) AS county_code FROM {persons} GROUP BY 1) r ON r.household_id = s.household_id"
        return join, "r.county_code"
    id_column = q(contract.placement_columns[-1])
    join = f"LEFT JOIN {persons} r ON r.id_number = s.{id_column}"
    if contract.placement == "village_code_or_id":
        return join, f"coalesce({by_village}, r.county_code)"
    return join, "r.county_code"


@dataclass
class ApplyResult:
    status: str  # applied, held, partial (some counties held), no_delivery, rejected
    message: str
    rows_stored: int
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
        for table in (q(contract.feed), "quarantine", "ingest_reports", "deliveries", "snapshot_versions"):
            where = "_delivery_date = ?" if table == q(contract.feed) else "feed = ? AND delivery_date = ?"
            con.execute(
                f"DELETE FROM {table} WHERE {where}", [day] if table == q(contract.feed) else [contract.feed, day]
            )
        stored, resent, replaced = _store_rows(con, prepared)
        _report_unplaced(con, contract, day)
        if region_counties is not None:
            _unplace_other_regions(con, contract, day, sorted(region_counties))
        _insert_issues(con, "quarantine", prepared.quarantine, contract, day)
        _insert_issues(con, "ingest_reports", prepared.reports, contract, day)
        _place_reports(con, contract, day)
        _place_issues(con, prepared, region_counties)
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
        con.execute(
            "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ],
        )
        con.execute("DROP TABLE placed")
        kill_point("ingest")
    return ApplyResult(status=status, message=message, rows_stored=stored, resent=resent, replaced=replaced)


def _store_rows(con: duckdb.DuckDBPyConnection, prepared: PreparedDelivery) -> tuple[int, int, int]:
    """Insert the delivery's rows, placed in a county; temp table ``placed`` keeps what the checks need.
    Returns (rows stored, re-sent rows dropped, rows replacing an earlier version)."""
    contract, day, feed = prepared.contract, prepared.delivery_date, q(prepared.contract.feed)
    join, county = _placement_sql(contract)
    columns = ", ".join(f"s.{q(n)}" for n in contract.names)
    params = [day] + ([day] if join else [])
    select = (
        f"SELECT {columns}, ?::DATE AS _delivery_date, s.{FILE}, s.{FILE_SEQ}, s.{ROW}, s.{EXTRA}, "
        f"{county} AS county_code FROM staged_rows s {join}"
    )
    resent = replaced = 0
    with registered(con, "staged_rows", prepared.rows.select(*contract.names, FILE, FILE_SEQ, ROW, EXTRA)):
        if contract.kind == "increment":  # small daily files: stage, drop re-sent rows, report replaced ones, insert
            con.execute(f"CREATE OR REPLACE TEMP TABLE placed AS {select}", params)
            resent = _drop_resent(con, contract, day)
            replaced = _report_replaced(con, contract, day)
            con.execute(f"INSERT INTO {feed} SELECT * FROM placed")
        else:  # snapshots can be millions of rows: insert once, keep only what the checks below need
            con.execute(f"INSERT INTO {feed} {select}", params)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE placed AS SELECT {FILE}, {ROW}, county_code FROM {feed} "
                "WHERE _delivery_date = ?",
                [day],
            )
    return con.execute("SELECT count(*) FROM placed").fetchall()[0][0], resent, replaced


def _drop_resent(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> int:
    """Remove staged rows identical to a version already delivered earlier (a re-sent file) and report them."""
    same_key = " AND ".join(f"e.{q(k)} = p.{q(k)}" for k in contract.key)
    same_row = " AND ".join(f"e.{q(n)} IS NOT DISTINCT FROM p.{q(n)}" for n in contract.names)
    earlier = f"SELECT 1 FROM {q(contract.feed)} e WHERE e._delivery_date < ? AND {same_key} AND {same_row}"
    con.execute(
        "INSERT INTO ingest_reports SELECT ?, ?, ?, p._file, p._row, ?, NULL, "
        "'与此前交付的记录完全相同（重复发送），计为重复，不再载入', p.county_code "
        f"FROM placed p WHERE EXISTS ({earlier})",
        [day, contract.feed, contract.department, "、".join(contract.column(k).header for k in contract.key), day],
    )
    before = con.execute("SELECT count(*) FROM placed").fetchall()[0][0]
    con.execute(f"DELETE FROM placed p WHERE EXISTS ({earlier})", [day])
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
                SELECT * FROM {q(contract.feed)} WHERE _delivery_date < ?
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
            day,
        ],
    ).fetchall()[0][0]


def _report_unplaced(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    how = {
        "village_code": "行政区划代码无效",
        "household_id": "户编号在花名册中找不到",
        "id": "证件号码在花名册中找不到",
        "village_code_or_id": "行政区划代码为空且证件号码在花名册中找不到",
    }
    con.execute(
        "INSERT INTO ingest_reports SELECT ?, ?, ?, _file, _row, NULL, NULL, ?, NULL FROM placed WHERE county_code IS NULL",
        [
            day,
            contract.feed,
            contract.department,
            f"无法归属到任何县（{how[contract.placement]}），列入未归属数据质量清单",
        ],
    )


def _place_reports(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    """A correction made while loading a row (a 15-digit ID converted, a certificate number cut to its ID) is the
    county's to see: the report takes the county its row was placed in. Without one it stays on the 未归属 list."""
    con.execute(
        """UPDATE ingest_reports r SET county_code = p.county_code FROM placed p
           WHERE r.feed = ? AND r.delivery_date = ? AND r.county_code IS NULL AND p.county_code IS NOT NULL
             AND r.file = p._file AND r."row" = p._row""",
        [contract.feed, day],
    )


def _place_issues(
    con: duckdb.DuckDBPyConnection, prepared: PreparedDelivery, region_counties: frozenset[str] | None
) -> None:
    """Issues about rows that were not loaded are placed like loaded rows: a row quarantined for one bad value (an ID
    that Excel mangled, say) or superseded by a later row usually still names its village, household or person, so
    its county's workbook lists it. An issue about a whole file, or about a line that could not even be split into
    fields, goes to the county the file's name gives. One that cannot be placed, or belongs outside the run's region,
    stays on the 未归属 list."""
    contract, day = prepared.contract, prepared.delivery_date
    keys = (
        prepared.issue_keys
        if prepared.issue_keys is not None
        else pl.DataFrame(schema={"file": pl.Utf8, "row": pl.Int64} | {c: pl.Utf8 for c in contract.placement_columns})
    )
    join, county = _placement_sql(contract)
    region = [] if region_counties is None else [sorted(region_counties)]
    inside = "" if region_counties is None else "AND list_contains(?::VARCHAR[], x.county_code)"
    with registered(con, "issue_keys", keys):
        for table in ("quarantine", "ingest_reports"):
            con.execute(
                f"""UPDATE {table} qu SET county_code = x.county_code
                    FROM (SELECT s.file, s."row", {county} AS county_code FROM issue_keys s {join}) x
                    WHERE qu.feed = ? AND qu.delivery_date = ? AND qu.county_code IS NULL AND x.county_code IS NOT NULL
                      AND qu.file = x.file AND qu."row" = x."row" {inside}""",
                ([day] if join else []) + [contract.feed, day] + region,
            )
            for file, named in prepared.file_counties.items():
                if region_counties is not None and named not in region_counties:
                    continue
                con.execute(
                    f"""UPDATE {table} qu SET county_code = ? WHERE feed = ? AND delivery_date = ? AND file = ?
                          AND county_code IS NULL
                          AND NOT EXISTS (SELECT 1 FROM issue_keys k WHERE k.file = qu.file AND k."row" = qu."row")
                          AND NOT EXISTS (SELECT 1 FROM placed p WHERE p._file = qu.file AND p._row = qu."row")""",
                    [named, contract.feed, day, file],
                )


def _unplace_other_regions(con: duckdb.DuckDBPyConnection, contract: Contract, day: date, counties: list[str]) -> None:
    """Rows of a county outside this run's region belong to another region's warehouse: report them (to the 未归属
    list, so the sending department hears of it) and store them without a county, so no deliverable shows them."""
    outside = "county_code IS NOT NULL AND NOT list_contains(?::VARCHAR[], county_code)"
    con.execute(
        "INSERT INTO ingest_reports SELECT ?, ?, ?, _file, _row, NULL, county_code, "
        "'该记录属于本区域以外的县（' || county_code || '），应交付给该县所在区域，本区域不处理，列入未归属数据质量清单', "
        f"NULL FROM placed WHERE {outside}",
        [day, contract.feed, contract.department, counties],
    )
    con.execute(
        f"UPDATE {q(contract.feed)} SET county_code = NULL WHERE _delivery_date = ? AND {outside}", [day, counties]
    )
    con.execute(f"UPDATE placed SET county_code = NULL WHERE {outside}", [counties])


def _insert_issues(con, table: str, issues: pl.DataFrame, contract: Contract, day: date) -> None:
    if issues.height == 0:
        return
    frame = issues.select(
        pl.lit(day).alias("delivery_date"),
        pl.lit(contract.feed).alias("feed"),
        pl.lit(contract.department).alias("department"),
        "file",
        "row",
        "column",
        "raw_value",
        "problem",
        pl.lit(None, pl.Utf8).alias("county_code"),
    )
    with registered(con, "issue_rows", frame):
        con.execute(f"INSERT INTO {table} SELECT * FROM issue_rows")


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


def accept_delivery(con: duckdb.DuckDBPyConnection, feed: str, day: date) -> int:
    """An operator accepts a held snapshot; returns the number of county versions released."""
    con.execute("INSERT OR IGNORE INTO operator_acceptances VALUES (?, ?)", [feed, day])
    released = con.execute(
        "UPDATE snapshot_versions SET status = 'accepted' WHERE feed = ? AND delivery_date = ? AND status = 'held'",
        [feed, day],
    ).fetchall()[0][0]
    con.execute(
        "UPDATE deliveries SET status = 'applied', message = message || '（操作员已确认接受）' "
        "WHERE feed = ? AND delivery_date = ? AND status IN ('held', 'partial')",
        [feed, day],
    )
    return released


def held_or_rejected(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple[str, str, str]]:
    """(feed, status, message) of the date's deliveries that were held or rejected."""
    return con.execute(
        "SELECT feed, status, message FROM deliveries WHERE delivery_date = ? AND status IN ('held', 'partial', 'rejected') "
        "ORDER BY feed",
        [day],
    ).fetchall()


def delivery_problems(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple[str, str, str]]:
    """(feed, status, message) of what an operator must look at after the date's run (exit status 2): deliveries
    held or rejected, files refused inside a delivery that otherwise loaded, entries of the delivery folder that were
    not read at all (ingest.landing), and no feed delivered at all. Texts quote file names: mask before showing."""
    refused = con.execute(
        """SELECT d.feed, 'file_rejected', string_agg(format('文件 {} 被拒收：{}', f.name, coalesce((
                      SELECT first(problem ORDER BY "row" NULLS FIRST) FROM quarantine q
                      WHERE q.feed = d.feed AND q.delivery_date = d.delivery_date AND q.file = f.name), '原因见数据质量问题')),
                  '；' ORDER BY f.name)
           FROM deliveries d, unnest(from_json(d.files, '[{"name": "VARCHAR", "rejected": "BOOLEAN"}]')) AS u(f)
           WHERE d.delivery_date = ? AND d.status NOT IN ('held', 'partial', 'rejected') AND f.rejected
           GROUP BY d.feed""",
        [day],
    ).fetchall()
    not_read = con.execute(
        """SELECT '交付文件夹', 'file_not_read', string_agg(format('「{}」{}', name, problem), '；' ORDER BY name)
           FROM landing_files WHERE delivery_date = ? AND problem IS NOT NULL HAVING count(*) > 0""",
        [day],
    ).fetchall()
    problems = sorted(held_or_rejected(con, day) + refused) + not_read
    if not con.execute("SELECT count(*) FROM deliveries WHERE delivery_date = ? AND files <> '[]'", [day]).fetchall()[
        0
    ][0]:
        problems.append(
            (
                "全部数据集",
                "no_delivery",
                "本日没有任何数据集交付：落地文件夹不存在或其中没有可识别的数据文件（文件名以数据集名开头，"
                "如 roster_150625.csv） / no feed delivered at all: the landing folder is missing or holds no "
                "file named after a feed (e.g. roster_150625.csv)",
            )
        )
    return problems
