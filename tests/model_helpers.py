"""Shared fixtures of the risk-model tests: one generated county (1,500 households, month-end deliveries Feb–Oct 2026),
ingested once per session with its month-end indicators backfilled; tests work on copies."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from shared_builds import built_once

from fangfanpin.config.policy import load_policy, parse_policy

MODEL_START = date(2026, 2, 1)
MODEL_END = date(2026, 11, 20)
LAST_DAY = date(2026, 10, 31)  # the last delivery (a Saturday); the day before is in the same week


def model_policy(**model_overrides):
    """The demo policy with a shorter validation window (the test county has 7 labelled month-ends)."""
    base = load_policy()
    data = copy.deepcopy(dict(base.raw))
    data["model"] = dict(data["model"], validation_months=2, min_positive_labels=10) | model_overrides.pop("model", {})
    for section, values in model_overrides.items():
        data[section] = dict(data[section]) | values
    return parse_policy(data, base.path)


@pytest.fixture(scope="session")
def model_county(tmp_path_factory) -> dict:
    """Built once per session even though three test modules use it (tests/shared_builds.py)."""
    from fangfanpin.crosscheck import run_crosscheck
    from fangfanpin.models.dataset import backfill_indicators
    from fangfanpin.models.demo import build_demo_warehouse

    policy = model_policy()
    county = {"households": 1500, "start": MODEL_START, "end": MODEL_END, "daily_days": 0}

    def build(root: Path) -> None:
        _, _, db = build_demo_warehouse(root, **county)
        with duckdb.connect(str(db)) as con:
            backfill_indicators(con, _labelled(con), policy)
            for day in (LAST_DAY - timedelta(days=1), LAST_DAY):
                run_crosscheck(con, day, policy)

    root = built_once(tmp_path_factory, "model_county", build)
    landing, truth, db = build_demo_warehouse(root, **county)  # the build above, found again
    with duckdb.connect(str(db), read_only=True) as con:
        dates = _labelled(con)
    return {"root": root, "landing": landing, "truth": truth, "db": db, "dates": dates}


def _labelled(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The month-end dates the model is trained and validated on."""
    from fangfanpin.models.dataset import labelled_dates

    model = model_policy().model
    return labelled_dates(con, model.horizon_days, model.training_months)


@pytest.fixture(scope="session")
def trained_model(model_county, tmp_path_factory) -> dict:
    """One training run on a copy (promoted or not, it is stored); shared by the scoring tests."""
    from fangfanpin.models import artifacts
    from fangfanpin.models.training import TrainingResult, train

    def build(root: Path) -> None:
        shutil.copy(model_county["db"], root / "wh.duckdb")
        with duckdb.connect(str(root / "wh.duckdb")) as con:
            result = train(con, model_policy(), root / "models", truth=model_county["truth"])
        if result.status == "not_promoted":  # the scoring tests need a promoted model either way
            artifacts.promote(root / "models", result.version)
        saved = json.dumps(result.__dict__, ensure_ascii=False, default=str)
        (root / "result.json").write_text(saved, encoding="utf-8")

    root = built_once(tmp_path_factory, "trained_model", build)
    result = TrainingResult(**json.loads((root / "result.json").read_text(encoding="utf-8")))
    return {"result": result, "model_dir": root / "models", "db": root / "wh.duckdb"}


def copy_db(source: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    target = tmp_path / "wh.duckdb"
    shutil.copy(source, target)
    return duckdb.connect(str(target))
