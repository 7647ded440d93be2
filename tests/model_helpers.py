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
    """Built once per session even though two test modules import it (fixed folder under the session's basetemp)."""
    from fangfanpin.crosscheck import run_crosscheck
    from fangfanpin.models.dataset import backfill_indicators, labelled_dates
    from fangfanpin.models.demo import build_demo_warehouse

    root = tmp_path_factory.getbasetemp() / "model_county"
    landing, truth, db = build_demo_warehouse(root, households=1500, start=MODEL_START, end=MODEL_END, daily_days=0)
    policy = model_policy()
    con = duckdb.connect(str(db))
    dates = labelled_dates(con, policy.model.horizon_days, policy.model.training_months)
    if not (root / ".prepared").exists():
        backfill_indicators(con, dates, policy)
        for day in (LAST_DAY - timedelta(days=1), LAST_DAY):
            run_crosscheck(con, day, policy)
        (root / ".prepared").write_text("ok")
    con.close()
    return {"root": root, "landing": landing, "truth": truth, "db": db, "dates": dates}


@pytest.fixture(scope="session")
def trained_model(model_county, tmp_path_factory) -> dict:
    """One training run on a copy (promoted or not, it is stored); shared by the scoring tests."""
    from fangfanpin.models import artifacts
    from fangfanpin.models.training import TrainingResult, train

    root = tmp_path_factory.getbasetemp() / "trained_model"
    db, model_dir, saved = root / "wh.duckdb", root / "models", root / "result.json"
    if saved.exists():
        data = json.loads(saved.read_text(encoding="utf-8"))
        result = TrainingResult(**data)
    else:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(model_county["db"], db)
        con = duckdb.connect(str(db))
        result = train(con, model_policy(), model_dir, truth=model_county["truth"])
        con.close()
        if result.status == "not_promoted":  # the scoring tests need a promoted model either way
            artifacts.promote(model_dir, result.version)
        saved.write_text(json.dumps(result.__dict__, ensure_ascii=False, default=str), encoding="utf-8")
    return {"result": result, "model_dir": model_dir, "db": db}


def copy_db(source: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    target = tmp_path / "wh.duckdb"
    shutil.copy(source, target)
    return duckdb.connect(str(target))
