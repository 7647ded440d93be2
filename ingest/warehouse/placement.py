"""Placing rows and issues in a county: a loaded row by its village, household or person (the contract's
placement); an issue like the row it is about, or by its file's name; what cannot be placed, or belongs outside the
run's region, goes to the 未归属 list."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered
from fangfanpin.data_contracts import Contract
from fangfanpin.ingest.prepare import PreparedDelivery
from fangfanpin.schema import q, roster_persons

# How the reports that placing rows writes begin: a delivery re-sent unchanged places its rows again, so these are
# made again, not copied (ingest.unchanged)
UNPLACED = "无法归属到任何县（"
OTHER_REGION = "该记录属于本区域以外的县（"
PLACEMENT_REPORTS = (UNPLACED, OTHER_REGION)


def placement_sql(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> tuple[str, str]:
    """(join clause, county expression) placing each staged row ``s`` of ``day`` in a county. A person is looked up
    in the roster in force (one row per person, ``schema/sql/roster.sql``): a person listed in two counties' rosters
    is placed once, in the county of the row delivered last."""
    persons = f"(SELECT id_number, household_id, county_code FROM {roster_persons(con, day)}(?::DATE))"
    by_village = "CASE WHEN length(s.village_code) = 12 THEN substr(s.village_code, 1, 6) END"
    if contract.placement == "village_code":
        return "", by_village
    if contract.placement == "household_id":
        join = f"LEFT JOIN (SELECT household_id, min(county_code) AS county_code FROM {persons} GROUP BY 1) r ON r.household_id = s.household_id"
        return join, "r.county_code"
    id_column = q(contract.placement_columns[-1])
    join = f"LEFT JOIN {persons} r ON r.id_number = s.{id_column}"
    if contract.placement == "village_code_or_id":
        return join, f"coalesce({by_village}, r.county_code)"
    return join, "r.county_code"


def report_unplaced(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
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
            f"{UNPLACED}{how[contract.placement]}），列入未归属数据质量清单",
        ],
    )


def place_reports(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> None:
    """A correction made while loading a row (a 15-digit ID converted, a certificate number cut to its ID) is the
    county's to see: the report takes the county its row was placed in. Without one it stays on the 未归属 list."""
    con.execute(
        """UPDATE ingest_reports r SET county_code = p.county_code FROM placed p
           WHERE r.feed = ? AND r.delivery_date = ? AND r.county_code IS NULL AND p.county_code IS NOT NULL
             AND r.file = p._file AND r."row" = p._row""",
        [contract.feed, day],
    )


def reports_left_unplaced(con: duckdb.DuckDBPyConnection, contract: Contract, day: date) -> int:
    """Reports about a row stored in a county that carry no county themselves: 0 unless placing them was lost, and
    then the county would never see them (the ingest check ``reports_placed``)."""
    return con.execute(
        f"""SELECT count(*) FROM ingest_reports r
            JOIN {q(contract.feed + "_delivery")}(?::DATE) x ON x._file = r.file AND x._row = r."row"
            WHERE r.feed = ? AND r.delivery_date = ? AND r.county_code IS NULL AND x.county_code IS NOT NULL""",
        [day, contract.feed, day],
    ).fetchall()[0][0]


def place_issues(
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
    join, county = placement_sql(con, contract, day)
    region = [] if region_counties is None else [sorted(region_counties)]
    inside = "" if region_counties is None else "AND list_contains(?::VARCHAR[], x.county_code)"
    named = pl.DataFrame(
        [
            (file, county)
            for file, county in prepared.file_counties.items()
            if region_counties is None or county in region_counties
        ],
        schema={"file": pl.Utf8, "county_code": pl.Utf8},
        orient="row",
    )
    with registered(con, "placement_keys", keys), registered(con, "named_files", named):
        for table in ("quarantine", "ingest_reports"):
            if keys.height:
                con.execute(
                    f"""UPDATE {table} qu SET county_code = x.county_code
                        FROM (SELECT s.file, s."row", {county} AS county_code FROM placement_keys s {join}) x
                        WHERE qu.feed = ? AND qu.delivery_date = ? AND qu.county_code IS NULL
                          AND x.county_code IS NOT NULL AND qu.file = x.file AND qu."row" = x."row" {inside}""",
                    ([day] if join else []) + [contract.feed, day] + region,
                )
            if named.height:
                con.execute(
                    f"""UPDATE {table} qu SET county_code = n.county_code FROM named_files n
                        WHERE qu.feed = ? AND qu.delivery_date = ? AND qu.file = n.file AND qu.county_code IS NULL
                          AND NOT EXISTS (SELECT 1 FROM placement_keys k WHERE k.file = qu.file AND k."row" = qu."row")
                          AND NOT EXISTS (SELECT 1 FROM placed p WHERE p._file = qu.file AND p._row = qu."row")""",
                    [contract.feed, day],
                )


def unplace_other_regions(con: duckdb.DuckDBPyConnection, contract: Contract, day: date, counties: list[str]) -> None:
    """Rows of a county outside this run's region belong to another region's warehouse: report them (to the 未归属
    list, so the sending department hears of it) and store them without a county, so no deliverable shows them."""
    outside = "county_code IS NOT NULL AND NOT list_contains(?::VARCHAR[], county_code)"
    con.execute(
        "INSERT INTO ingest_reports SELECT ?, ?, ?, _file, _row, NULL, county_code, "
        "? || county_code || '），应交付给该县所在区域，本区域不处理，列入未归属数据质量清单', "
        f"NULL FROM placed WHERE {outside}",
        [day, contract.feed, contract.department, OTHER_REGION, counties],
    )
    con.execute(
        f"UPDATE {q(contract.feed)} SET county_code = NULL WHERE _delivery_date = ? AND {outside}", [day, counties]
    )
    con.execute(f"UPDATE placed SET county_code = NULL WHERE {outside}", [counties])


def insert_issues(con, table: str, issues: pl.DataFrame, contract: Contract, day: date) -> None:
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
