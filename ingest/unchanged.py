"""A snapshot re-sent unchanged: recognised by checksum and not read again.

    fingerprint = delivery_fingerprint(contract, files, limits, counties)
    earlier = same_as_earlier(con, contract, day, fingerprint, counties)
    prepared = copied_delivery(con, contract, day, earlier, files, fingerprint, counties) if earlier else ...

Reading a delivery's files depends on the files, the contract, the file limits, the division codes, the code that
reads and normalises them, and the delivery date. The fingerprint covers all but the date; when it equals the one
stored with the feed's newest earlier delivery, that delivery's typed rows, quarantined rows and reports are what
reading would give again, except where a value is compared with the delivery date (a date after it, a birth date in
an ID number). Those values all left an issue behind, with their raw text: they are normalised again on both dates,
and any difference means the files are read after all. Placing rows in counties depends on the day's roster and the
run's region: the warehouse does it again for the rows (``ingest.warehouse.apply``), so every result is the
one reading the files would give; rows placed as before are reused, not stored again. Only snapshots are taken
from an earlier delivery: an increment stores only the rows it added, so its earlier rows are not the file's.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from fangfanpin.config.policy import FileLimits
from fangfanpin.core.settings import available_cores
from fangfanpin.data_contracts import Contract
from fangfanpin.ingest.landing import county_in_name
from fangfanpin.ingest.normalize import normalize_column
from fangfanpin.ingest.prepare import FileSummary, PreparedDelivery, empty_typed
from fangfanpin.ingest.warehouse.placement import PLACEMENT_REPORTS
from fangfanpin.schema import q

_PACKAGE = Path(__file__).resolve().parents[1]
# the code that turns files into rows, issues and profiles, and tells placement's reports from reading's
_READING_CODE = ("ingest/**/*.py", "data_contracts/**/*.py", "core/privacy.py")


@cache
def _code_digest() -> str:
    digest = hashlib.sha256(pl.__version__.encode())
    for pattern in _READING_CODE:
        for path in sorted(_PACKAGE.glob(pattern)):
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def delivery_fingerprint(
    contract: Contract, files: list[Path], limits: FileLimits, known_counties: frozenset[str]
) -> str:
    """SHA-256 of the files (names and contents) and of everything reading them depends on but the date."""
    digest = hashlib.sha256()
    for part in (_code_digest(), repr(contract), repr(limits), ",".join(sorted(known_counties))):
        digest.update(part.encode("utf-8") + b"\0")
    with ThreadPoolExecutor(min(available_cores(), max(len(files), 1))) as pool:  # hashlib lets go of the GIL
        for path, file_digest in zip(files, pool.map(_file_digest, files)):
            digest.update(path.name.encode("utf-8") + b"\0" + file_digest)
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def same_as_earlier(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    day: date,
    fingerprint: str,
    known_counties: frozenset[str],
) -> date | None:
    """The date of the feed's newest earlier delivery with files, when its files were these, read under the same
    fingerprint, none refused, and no value of theirs compared with the delivery date comes out otherwise on ``day``;
    else None."""
    if contract.kind != "snapshot":
        return None
    found = con.execute(
        """SELECT delivery_date, fingerprint, files FROM deliveries
           WHERE feed = ? AND delivery_date < ? AND files <> '[]' ORDER BY delivery_date DESC LIMIT 1""",
        [contract.feed, day],
    ).fetchall()
    if not found or found[0][1] != fingerprint:
        return None
    earlier, _, files = found[0]
    if any(f.get("rejected") for f in json.loads(files)):  # a refusal may be a time limit: read again
        return None
    return earlier if _dates_decide_alike(con, contract, earlier, day, known_counties) else None


def _dates_decide_alike(
    con: duckdb.DuckDBPyConnection, contract: Contract, earlier: date, day: date, known_counties: frozenset[str]
) -> bool:
    """Whether every value compared with the delivery date is judged alike on ``earlier`` and on ``day``. A value
    that passed on ``earlier`` lay on or before it, so it passes on the later ``day`` too; a value after ``earlier``
    left an issue with its raw text (a problem, or a note naming the date), and is normalised again on both."""
    dated = {
        c.header: c for c in contract.columns if c.type == "id" or (c.type == "date" and c.after_delivery != "allow")
    }
    if not dated:
        return True
    raw = con.sql(
        """SELECT DISTINCT "column", raw_value FROM (
               SELECT "column", raw_value FROM quarantine WHERE feed = ? AND delivery_date = ?
               UNION ALL SELECT "column", raw_value FROM ingest_reports WHERE feed = ? AND delivery_date = ?)
           WHERE list_contains(?::VARCHAR[], "column") AND raw_value IS NOT NULL""",
        params=[contract.feed, earlier, contract.feed, earlier, list(dated)],
    ).pl()
    for (header,), values in raw.group_by("column"):
        column, cells = dated[header], values.get_column("raw_value")
        then = normalize_column(cells, column, earlier, known_counties).select("problem", "note")
        now = normalize_column(cells, column, day, known_counties).select("problem", "note")
        if not then.equals(now):
            return False
    return True


def copied_delivery(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    day: date,
    earlier: date,
    files: list[Path],
    fingerprint: str,
    known_counties: frozenset[str],
) -> PreparedDelivery:
    """The delivery of ``day`` as reading its files would prepare it, taken from the warehouse's ``earlier``
    delivery: its counts, quarantine and reports (without those placing rows wrote), the placement columns of its
    rows that were not loaded; the rows themselves are reused or copied by ``apply_delivery`` (``same_as``)."""
    params = [contract.feed, earlier]
    (files_json, rows_read, loaded, duplicates, superseded, quarantined), *_ = con.execute(
        "SELECT files, rows_read, rows_loaded, duplicates, superseded, quarantined FROM deliveries "
        "WHERE feed = ? AND delivery_date = ?",
        params,
    ).fetchall()
    issue_columns = 'file, "row", "column", raw_value, problem'
    quarantine = con.sql(
        f"SELECT {issue_columns} FROM quarantine WHERE feed = ? AND delivery_date = ?", params=params
    ).pl()
    reports = con.sql(
        f"""SELECT {issue_columns} FROM ingest_reports WHERE feed = ? AND delivery_date = ?
            AND NOT ({" OR ".join("starts_with(problem, ?)" for _ in PLACEMENT_REPORTS)})""",
        params=params + list(PLACEMENT_REPORTS),
    ).pl()
    placement = contract.placement_columns
    stored_as = {"village_code": "village_code", "household_id": "household_id"}
    keys = con.sql(
        'SELECT file, "row", '
        + ", ".join(f"{stored_as.get(c, 'id_number')} AS {q(c)}" for c in placement)
        + " FROM issue_keys WHERE feed = ? AND delivery_date = ?",
        params=params,
    ).pl()
    return PreparedDelivery(
        contract=contract,
        delivery_date=day,
        rows=empty_typed(contract),
        quarantine=quarantine,
        reports=reports,
        files=[FileSummary(**f) for f in json.loads(files_json)],
        rows_read=rows_read,
        duplicates=duplicates,
        superseded=superseded,
        quarantined_rows=quarantined,
        issue_keys=keys if keys.height else None,
        file_counties={p.name: c for p in files if (c := county_in_name(p.name, known_counties))},
        fingerprint=fingerprint,
        same_as=earlier,
        same_rows=loaded,
    )
