"""Settings from the environment (operations.md), resolved at call time so tests can point them elsewhere."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    outbox_dir: Path
    warehouse: Path
    model_dir: Path
    dagster_home: Path
    duckdb_memory_limit: str  # DuckDB spills to disk beyond this; the process peak stays near it (benchmarks/)


def settings() -> Settings:
    env = os.environ.get
    return Settings(
        landing_dir=Path(env("FFP_LANDING_DIR", "var/landing")),
        outbox_dir=Path(env("FFP_OUTBOX_DIR", "var/outbox")),
        warehouse=Path(env("FFP_WAREHOUSE", "var/warehouse.duckdb")),
        model_dir=Path(env("FFP_MODEL_DIR", "var/models")),
        dagster_home=Path(env("DAGSTER_HOME", "var/dagster")),
        duckdb_memory_limit=env("FFP_DUCKDB_MEMORY_LIMIT", "3GB"),
    )
