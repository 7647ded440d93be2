"""A generated county in a warehouse, for tests, the benchmark and the model card's honest evaluation.

    landing, truth, db = build_demo_warehouse(Path("/tmp/ffp_demo"), households=4000)

Generates landing files with the project's generator, then ingests every delivery in date order (as the daily job
would). The truth folder is only for evaluation (models.evaluation.truth_labels), never for training.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from fangfanpin.data_contracts import all_contracts
from fangfanpin.generator import MessyRates, generate
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.read import delivery_dates

DEMO_COUNTY = "150625"  # 杭锦旗
DEMO_START = date(2025, 11, 1)
DEMO_END = date(2026, 11, 20)


def ingest_all(con: duckdb.DuckDBPyConnection, landing: Path, until: date | None = None) -> list[date]:
    days = [d for d in delivery_dates(landing) if until is None or d <= until]
    contracts = all_contracts()
    for day in days:
        for contract in contracts:
            ingest_feed(con, contract, landing, day)
    return days


def build_demo_warehouse(
    root: Path,
    households: int = 4000,
    *,
    seed: int = 11,
    messy=None,
    start: date = DEMO_START,
    end: date = DEMO_END,
    daily_days: int = 2,
) -> tuple[Path, Path, Path]:
    """(landing, truth, warehouse path); reuses an existing build in ``root``."""
    root = Path(root)
    landing, truth, db = root / "landing", root / "truth", root / "warehouse.duckdb"
    done = root / ".built"
    if done.exists():
        return landing, truth, db
    root.mkdir(parents=True, exist_ok=True)
    generate(
        landing,
        truth,
        [DEMO_COUNTY],
        households,
        start,
        end,
        seed=seed,
        messy=MessyRates() if messy is None else messy,
        daily_days=daily_days,
    )
    con = duckdb.connect(str(db))
    try:
        ingest_all(con, landing)
    finally:
        con.close()
    done.write_text("ok")
    return landing, truth, db
