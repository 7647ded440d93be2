"""Shared fixtures: small landing data made by the project's own generator, and isolated settings per test."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from shared_builds import built_once

SMALL_END = date(2026, 11, 20)
SMALL_START = date(2026, 9, 1)


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """300 households of 杭锦旗 over three months, heavy messy values; read-only for tests (copy before changing)."""
    from fangfanpin.generator import MessyRates, generate

    def build(root: Path) -> None:
        generate(
            root / "landing",
            root / "truth",
            counties=["150625"],
            households=300,
            start=SMALL_START,
            end=SMALL_END,
            seed=7,
            messy=MessyRates.heavy(),
            daily_days=6,
        )

    return built_once(tmp_path_factory, "small", build) / "landing"


@pytest.fixture(scope="session")
def small_ingested(small_landing, tmp_path_factory) -> Path:
    """A warehouse with every delivery of ``small_landing`` ingested (no cross-check yet); copy before changing."""
    import duckdb

    from fangfanpin.data_contracts import all_contracts
    from fangfanpin.ingest import ingest_feed
    from fangfanpin.ingest.read import delivery_dates

    def build(root: Path) -> None:
        with duckdb.connect(str(root / "wh.duckdb")) as con:
            for day in delivery_dates(small_landing):
                for contract in all_contracts():
                    ingest_feed(con, contract, small_landing, day)

    return built_once(tmp_path_factory, "small_ingested", build) / "wh.duckdb"


@pytest.fixture
def ffp_env(tmp_path, monkeypatch) -> Path:
    """Point every setting at a fresh folder."""
    for variable, sub in (
        ("FFP_LANDING_DIR", "landing"),
        ("FFP_OUTBOX_DIR", "outbox"),
        ("FFP_MODEL_DIR", "models"),
        ("DAGSTER_HOME", "dagster"),
    ):
        monkeypatch.setenv(variable, str(tmp_path / sub))
    monkeypatch.setenv("FFP_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    (tmp_path / "landing").mkdir()
    return tmp_path


TIERS = (
    "unit",
    "warehouse",
    "dagster",
    "e2e",
)  # pyproject.toml describes them; `pytest -m unit` runs in under a minute


def pytest_collection_modifyitems(config, items):
    """Every test belongs to exactly one tier (its module's pytestmark, or its own mark). The slow modules come
    first, longest first: ``make test`` hands each worker a module at a time in this order, so that the last modules
    handed out are short and the workers finish together."""
    wrong = [item.nodeid for item in items if len({m.name for m in item.iter_markers() if m.name in TIERS}) != 1]
    if wrong:
        raise pytest.UsageError("tests without exactly one tier marker (" + ", ".join(TIERS) + "): " + ", ".join(wrong))
    items.sort(key=lambda item: -slow_seconds(item))  # stable: the collection order within a module and among equals


def slow_seconds(item: pytest.Item) -> float:
    """What its module's ``slow(seconds=…)`` mark says the module takes on one worker; 0 for the others."""
    mark = item.get_closest_marker("slow")
    if mark is not None and "seconds" not in mark.kwargs:
        raise pytest.UsageError(f"{item.nodeid}: pytest.mark.slow needs seconds= (about what its module takes)")
    return mark.kwargs["seconds"] if mark is not None else 0
