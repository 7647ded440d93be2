"""One owner for the warehouse schema: fangfanpin.schema creates every table and macro, once; no other module
creates a warehouse table or asks whether one exists."""

from __future__ import annotations

import re

import duckdb
import pytest
from paths import CODE_PACKAGES, REPO

from fangfanpin.data_contracts import FEED_NAMES
from fangfanpin.schema import ensure_schema

pytestmark = pytest.mark.unit

# the only other CREATE TABLEs: the rule checker's scratch table in its own in-memory database, and the ledger's
# ``cases``, a cache rebuilt from case_events each day (the schema creates it first)
ALLOWED_CREATE = {"config/rules.py", "workflow/cases.py"}
ALLOWED_ASK = {"pipeline/cli.py"}  # verify-ledger audits any warehouse file, read-only, made by whatever version


def _sources():
    for package in CODE_PACKAGES:
        for path in sorted((REPO / package).rglob("*")):
            if path.suffix in (".py", ".sql"):
                yield path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")


def test_ensure_schema_makes_every_table_once():
    with duckdb.connect() as con:
        ensure_schema(con)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        digest = con.execute("SELECT digest FROM ffp_schema").fetchall()
        ensure_schema(con)  # nothing changed: nothing runs again
        assert con.execute("SELECT digest FROM ffp_schema").fetchall() == digest
    stages = {
        "quarantine",
        "ingest_reports",
        "deliveries",
        "snapshot_versions",
        "reused_snapshots",
        "landing_files",
        "person_links",
        "household_indicators",
        "rule_hits",
        "data_quality_issues",
        "household_scores",
        "household_first_flags",
        "scored_dates",
        "case_events",
        "cases",
        "ledger_chain",
        "visit_tasks",
        "case_status_daily",
        "delivery_runs",
    }
    assert set(FEED_NAMES) | stages <= tables


def test_no_other_module_creates_a_warehouse_table_or_asks_whether_one_exists():
    create = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?TABLE(?!\s+IF\s+NOT\s+EXISTS\s+ffp_schema)", re.I)
    ask = re.compile(r"information_schema\.tables", re.I)
    found = []
    for rel, text in _sources():
        if rel.startswith("schema/"):
            continue
        for line in text.splitlines():
            if create.search(line) and "TEMP" not in line.upper() and rel not in ALLOWED_CREATE:
                found.append(f"{rel}: {line.strip()}")
            if ask.search(line) and rel not in ALLOWED_ASK:
                found.append(f"{rel}: {line.strip()}")
    assert found == []
