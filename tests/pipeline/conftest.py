"""A small generated landing of two counties and a world whose first date is done, shared by the command's tests
(test_runs.py, test_run_summary.py), built once for all workers: copy the world with ``runs_helpers.world`` before
changing it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from runs_helpers import COUNTIES, ffp
from shared_builds import built_once


@pytest.fixture(scope="session")
def deliveries(tmp_path_factory) -> tuple[Path, list[date]]:
    """Three delivery dates: a full one, then two daily ones."""
    from fangfanpin.generator import MessyRates, generate
    from fangfanpin.ingest.read import delivery_dates

    def build(base: Path) -> None:
        generate(
            base / "landing",
            base / "truth",
            counties=COUNTIES,
            households=60,
            start=date(2026, 10, 1),
            end=date(2026, 11, 20),
            seed=13,
            messy=MessyRates.heavy(),
            daily_days=2,
        )

    landing = built_once(tmp_path_factory, "runs", build) / "landing"
    return landing, delivery_dates(landing)[-3:]


@pytest.fixture(scope="session")
def processed(tmp_path_factory, deliveries) -> Path:
    """A world where the first date is done (landing, warehouse, outbox, instance)."""
    landing, days = deliveries

    def build(root: Path) -> None:
        shutil.copytree(landing / days[0].isoformat(), root / "landing" / days[0].isoformat())
        done = ffp(root, "run", "--pending")
        assert done.returncode == 0, done.stderr[-3000:]

    return built_once(tmp_path_factory, "processed", build)
