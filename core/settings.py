"""Settings from the environment (docs/operations.md), resolved at call time so tests can point them elsewhere.

``FFP_REGION`` names a region of config/regions.yaml (``FFP_REGIONS`` for another file): its landing, outbox,
warehouse, models and Dagster instance then default to ``var/regions/<region>/…`` so that regions run side by side
as independent processes, and ingest places rows only in the region's counties. An explicit ``FFP_*`` variable still
wins over the region's default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fangfanpin.config.regions import Region, get_region

REGION_TAG = "ffp/region"  # a region's runs are told apart in the UI's run list by this tag


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    outbox_dir: Path
    warehouse: Path
    model_dir: Path
    dagster_home: Path
    duckdb_memory_limit: str  # DuckDB spills to disk beyond this; a run peaks at about this plus the Python side's
    # DuckDB checkpoints (rewrites changed tables into the file) whenever its write-ahead log outgrows this, inside a
    # commit; at DuckDB's 16MB a county's day checkpoints in most of its commits. The file is checkpointed on close
    # in any case.
    duckdb_checkpoint_threshold: str
    # Rows per row group of what a connection writes. A checkpoint rewrites the last, partly filled row group of every
    # table appended to; at DuckDB's 122,880 a county's day rewrites several days of its snapshot tables at every
    # run's close. A multiple of 2,048.
    duckdb_row_group_size: int
    render_workers: int  # processes rendering big workbooks and task packs (deliverables/render_pool.py)
    region: Region | None = None

    @property
    def region_counties(self) -> frozenset[str] | None:
        """The counties ingest may place rows in; None: any county (no region set)."""
        return frozenset(self.region.counties) if self.region else None

    @property
    def run_tags(self) -> dict[str, str]:
        return {REGION_TAG: self.region.name} if self.region else {}


ROW_GROUP_STEP = 2048  # DuckDB wants a row group size that is a multiple of its vector size


def _row_group_size(text: str) -> int:
    size = int(text) if text.strip().isdigit() else 0
    if size <= 0 or size % ROW_GROUP_STEP:
        raise ValueError(f"FFP_DUCKDB_ROW_GROUP_SIZE must be a positive multiple of {ROW_GROUP_STEP}, not {text!r}")
    return size


def available_cores() -> int:
    """The cores this process may use (a pinned benchmark, a container), not the machine's."""
    return len(os.sched_getaffinity(0))


def _workers(text: str | None) -> int:
    if text is None:
        return available_cores()
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"FFP_RENDER_WORKERS must be a whole number of processes, at least 1, not {text!r}")
    return int(text)


def settings() -> Settings:
    env = os.environ.get
    region = get_region(env("FFP_REGION")) if env("FFP_REGION") else None
    base = Path("var/regions") / region.name if region else Path("var")
    return Settings(
        landing_dir=Path(env("FFP_LANDING_DIR", base / "landing")),
        outbox_dir=Path(env("FFP_OUTBOX_DIR", base / "outbox")),
        warehouse=Path(env("FFP_WAREHOUSE", base / "warehouse.duckdb")),
        model_dir=Path(env("FFP_MODEL_DIR", base / "models")),
        dagster_home=Path(env("DAGSTER_HOME", base / "dagster")),
        duckdb_memory_limit=env("FFP_DUCKDB_MEMORY_LIMIT", "2500MB"),
        duckdb_checkpoint_threshold=env("FFP_DUCKDB_CHECKPOINT_THRESHOLD", "256MB"),
        duckdb_row_group_size=_row_group_size(env("FFP_DUCKDB_ROW_GROUP_SIZE", "16384")),
        render_workers=_workers(env("FFP_RENDER_WORKERS")),
        region=region,
    )
