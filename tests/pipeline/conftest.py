"""A small generated landing of two counties and a world whose first date is done, shared by the command's tests
(test_runs.py, test_terminal.py): copy the world with ``runs_helpers.world`` before changing it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from runs_helpers import COUNTIES, ffp


@pytest.fixture(scope="session")
def deliveries(tmp_path_factory) -> tuple[Path, list[date]]:
    """Three delivery dates: a full one, then two daily ones."""
    from fangfanpin.generator import MessyRates, generate
    from fangfanpin.ingest.read import delivery_dates

    base = tmp_path_factory.mktemp("runs")
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
    return base / "landing", delivery_dates(base / "landing")[-3:]


@pytest.fixture(scope="session")
def processed(tmp_path_factory, deliveries) -> Path:
    """A world where the first date is done (landing, warehouse, outbox, instance)."""
    landing, days = deliveries
    root = tmp_path_factory.mktemp("processed")
    shutil.copytree(landing / days[0].isoformat(), root / "landing" / days[0].isoformat())
    done = ffp(root, "run", "--pending")
    assert done.returncode == 0, done.stderr[-3000:]
    return root
