"""The project's documents follow the code: docs/feeds.md's tables are the contracts', docs/operations.md names every
command, option, setting, schedule and sensor, docs/outputs.md every sheet, CSV column and manifest key, and no
document points outside the repository. (The workbook's columns per sheet are checked against docs/outputs.md on a
written workbook, in tests/deliverables/test_deliverables.py.)"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import docs_tables
import pytest
from paths import REPO

from fangfanpin import data_contracts
from fangfanpin.data_contracts import all_contracts, load_contract
from fangfanpin.deliverables import CANDIDATE_COLUMNS, SHEETS
from fangfanpin.deliverables.manifest import manifest_bytes
from fangfanpin.ingest.prepare import ROW_CHECKS, ROW_REPORTS
from fangfanpin.pipeline.cli import build_parser

ROOT = REPO
DOCS = ROOT / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------------ feeds.md
@pytest.mark.unit
def test_feed_tables_are_the_contracts():
    text = _read("feeds.md")
    assert not docs_tables.missing(text), "a contract has no table in docs/feeds.md"
    assert set(docs_tables.blocks(text)) == set(data_contracts.FEED_NAMES)
    assert docs_tables.rewrite(text) == text, (
        "docs/feeds.md differs from the contracts: run `.venv/bin/python tests/docs_tables.py` and commit the result"
    )


@pytest.mark.unit
def test_a_changed_contract_changes_its_table():
    """What the test above relies on: the table shows what a contract says, so a changed contract fails it."""
    roster = load_contract("roster")
    before = docs_tables.render(roster)
    phone = roster.column("phone")
    renamed = tuple(dataclasses.replace(c, header="联系电话") if c is phone else c for c in roster.columns)
    assert "| 联系电话 |" in docs_tables.render(dataclasses.replace(roster, columns=renamed))
    required = tuple(dataclasses.replace(c, required=True) if c is phone else c for c in roster.columns)
    assert docs_tables.render(dataclasses.replace(roster, columns=required)) != before


@pytest.mark.unit
def test_every_contract_word_is_explained():
    """A new column type, placement, date rule or row check fails here until docs/feeds.md says what it means."""
    assert set(docs_tables.TYPES) == data_contracts.COLUMN_TYPES
    assert set(docs_tables.PLACEMENTS) == data_contracts.PLACEMENTS
    assert set(docs_tables.AFTER_DELIVERY) == data_contracts.AFTER_DELIVERY
    assert set(docs_tables.ROW_CHECKS) == set(ROW_CHECKS) | set(ROW_REPORTS)
    assert {name for c in all_contracts() for name in c.row_checks} <= set(docs_tables.ROW_CHECKS)


# ------------------------------------------------------------------------------------------------- operations.md
def _subcommands() -> dict[str, list[str]]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return {
        name: [o for a in command._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        for name, command in sub.choices.items()
    }


@pytest.mark.unit
def test_operations_names_every_command_and_option():
    text = _read("operations.md")
    for command, options in _subcommands().items():
        assert f"`fangfanpin {command}" in text, command
        for option in options:
            assert re.search(rf"`fangfanpin {command}[^`]*{option}\b", text), (command, option)


@pytest.mark.unit
def test_operations_names_every_setting():
    """Every environment variable the code reads is in the settings table."""
    read = set()
    for path in ROOT.rglob("*.py"):
        if path.parts[len(ROOT.parts)] in (".venv", "tests", "benchmarks"):
            continue
        read |= set(re.findall(r"\"(FFP_[A-Z_]+|DAGSTER_HOME)\"", path.read_text(encoding="utf-8")))
    assert {"FFP_LANDING_DIR", "FFP_POLICY", "DAGSTER_HOME"} <= read
    settings = docs_tables.section(_read("operations.md"), "Settings")
    assert {v for v in read if f"| `{v}` |" not in settings} == set()


@pytest.mark.dagster
def test_operations_names_every_schedule_and_sensor():
    from fangfanpin.pipeline.definitions import defs  # slow import: the whole asset graph

    text = docs_tables.section(_read("operations.md"), "Schedule and sensor")
    names = [s.name for s in defs.schedules] + [s.name for s in defs.sensors]
    assert names and all(f"`{name}`" in text for name in names), names


# ---------------------------------------------------------------------------------------------------- outputs.md
@pytest.mark.unit
def test_outputs_lists_the_sheets_in_order_and_every_csv_column():
    text = _read("outputs.md")
    assert list(docs_tables.sheet_columns(text)) == list(SHEETS)
    assert docs_tables.first_column(text, "candidates.csv") == list(CANDIDATE_COLUMNS)


@pytest.mark.unit
def test_outputs_lists_every_manifest_key():
    doc = json.loads(manifest_bytes(date(2026, 11, 20), "150625", "杭锦旗", "run", [], [], None))
    assert docs_tables.first_column(_read("outputs.md"), "manifest.json") == list(doc)


# ------------------------------------------------------------------------------------------------------ all docs
@pytest.mark.unit
def test_no_document_points_outside_the_repository():
    outside = re.compile(r"/work/|\.\./shared|shared/(spec|data)/")
    for path in [ROOT / "README.md", *DOCS.glob("*.md"), *ROOT.glob("*/**/*.md")]:
        if ".venv" in path.parts:
            continue
        hits = [line for line in path.read_text(encoding="utf-8").splitlines() if outside.search(line)]
        assert not hits, (path, hits)
