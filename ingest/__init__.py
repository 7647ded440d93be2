"""Ingest: read a feed's delivery, apply its contract, and load it into the warehouse.

    outcome = ingest_feed(con, load_contract("roster"), landing_dir, date(2026, 10, 31))

The pieces behind it: ``read`` (files → text), ``normalize`` (text → typed values or reasons), ``prepare`` (one
delivery → typed rows, quarantine, reports, reconciled counts) and ``warehouse`` (tables and idempotent apply).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

from fangfanpin.config import DIVISIONS_DIR
from fangfanpin.config.policy import FileLimits
from fangfanpin.data_contracts import Contract
from fangfanpin.data_contracts.gx_suites import profile
from fangfanpin.ingest.prepare import PreparedDelivery, prepare_delivery
from fangfanpin.ingest.read import DEFAULT_LIMITS, find_feed_files
from fangfanpin.ingest.unchanged import copied_delivery, delivery_fingerprint, same_as_earlier
from fangfanpin.ingest.warehouse import ApplyResult, apply_delivery, ensure_schema


@cache
def known_counties() -> frozenset[str]:
    with open(DIVISIONS_DIR / "counties.csv", encoding="utf-8") as handle:
        return frozenset(row["county_code"] for row in csv.DictReader(handle))


@dataclass
class IngestOutcome:
    prepared: PreparedDelivery
    applied: ApplyResult


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_dir: Path,
    day: date,
    *,
    shrink_ratio: float = 0.5,
    region_counties: frozenset[str] | None = None,
    limits: FileLimits = DEFAULT_LIMITS,
) -> IngestOutcome:
    """Read, check and load one feed's delivery for ``day``; ``region_counties`` restricts placement to a region.
    A snapshot whose files are those of its newest earlier delivery is not read again (``ingest.unchanged``)."""
    ensure_schema(con)
    files = find_feed_files(landing_dir, day, contract.feed)
    counties = known_counties()
    fingerprint = delivery_fingerprint(contract, files, limits, counties) if files else None
    earlier = same_as_earlier(con, contract, day, fingerprint, counties) if fingerprint else None
    if earlier is not None:
        prepared = copied_delivery(con, contract, day, earlier, files, fingerprint, counties)
        (stored_profile,) = con.execute(
            "SELECT profile FROM deliveries WHERE feed = ? AND delivery_date = ?", [contract.feed, earlier]
        ).fetchone()
        delivery_profile = json.loads(stored_profile) if stored_profile else None
    else:
        prepared = prepare_delivery(contract, files, day, counties, limits)
        prepared.fingerprint = fingerprint
        delivery_profile = profile(prepared.rows.select(contract.names)).to_dict() if files else None
    applied = apply_delivery(
        con, prepared, shrink_ratio=shrink_ratio, profile=delivery_profile, region_counties=region_counties
    )
    return IngestOutcome(prepared=prepared, applied=applied)


__all__ = ["IngestOutcome", "ingest_feed", "known_counties", "ensure_schema"]
