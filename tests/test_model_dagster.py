"""Scoring and training assets in Dagster: thin wrappers, metadata without personal data, jobs and schedule."""

from __future__ import annotations

import re
import shutil

from dagster import materialize

from model_helpers import LAST_DAY, model_county, trained_model  # noqa: F401

ID_LIKE = re.compile(r"(?<![\d.])(\d{17}[\dXx]|150625\d{9})(?![\d])")


def _text(result) -> str:
    parts = []
    for event in result.get_asset_materialization_events():
        parts += [str(v.value) for v in event.materialization.metadata.values()]
    for evaluation in result.get_asset_check_evaluations():
        parts += [str(v.value) for v in evaluation.metadata.values()]
    return " ".join(parts)


def test_scoring_and_training_assets(model_county, trained_model, ffp_env):
    from assets.scoring import feature_drift, household_scores, risk_model, model_promoted
    from pipeline.resources import WarehouseResource

    db = ffp_env / "warehouse.duckdb"
    shutil.copy(model_county["db"], db)
    resources = {"warehouse": WarehouseResource(database=str(db))}

    # a new warehouse with no model: rules alone, the drift check passes with nothing to compare
    first = materialize([household_scores, feature_drift], partition_key=LAST_DAY.isoformat(), resources=resources)
    assert first.success
    meta = first.get_asset_materialization_events()[0].materialization.metadata
    assert meta["model_version"].value == "无（仅规则）" and meta["dagster/row_count"].value > 1000
    assert all(e.passed for e in first.get_asset_check_evaluations())

    # the training asset stores a versioned model; its card reaches the UI
    trained = materialize([risk_model, model_promoted], resources=resources)
    assert trained.success
    meta = trained.get_asset_materialization_events()[0].materialization.metadata
    assert meta["status"].value in ("promoted", "not_promoted") and "结论" in meta["card"].value
    assert {"roc_auc", "recall_rules_alone", "recall_model_equal_workload", "data_fingerprint"} <= set(meta)
    assert meta["calibration_chart"].value.startswith("![校准图](data:image/png;base64,")
    assert meta["dagster/row_count"].value > 0 and "dagster/column_schema" in meta

    # with a promoted model: probabilities and the version in metadata
    shutil.rmtree(ffp_env / "models")
    shutil.copytree(trained_model["model_dir"], ffp_env / "models")
    second = materialize([household_scores, feature_drift], partition_key=LAST_DAY.isoformat(), resources=resources)
    assert second.success
    meta = second.get_asset_materialization_events()[0].materialization.metadata
    assert meta["model_version"].value != "无（仅规则）"
    assert not ID_LIKE.search(_text(first) + _text(trained) + _text(second))


def test_definitions_have_the_training_job_and_weekly_schedule():
    from pipeline.definitions import defs

    assert defs.resolve_job_def("training_job") is not None
    schedule = defs.resolve_schedule_def("weekly_training_schedule")
    assert schedule.cron_schedule == "0 3 * * 1" and schedule.job_name == "training_job"
    daily = defs.resolve_job_def("daily_job")
    keys = {k.to_user_string() for k in daily.asset_layer.executable_asset_keys} if hasattr(daily, "asset_layer") else set()
    assert not keys or ("scoring/household_scores" in keys and "scoring/risk_model" not in keys)
