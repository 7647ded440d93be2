"""Scoring and training assets in Dagster: thin wrappers, metadata without personal data, jobs and schedule."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from dagster import materialize
from dagster_helpers import materialize_day
from model_helpers import LAST_DAY, model_county, trained_model  # noqa: F401

pytestmark = [pytest.mark.dagster, pytest.mark.slow(seconds=35)]

ID_LIKE = re.compile(r"(?<![\d.])(\d{17}[\dXx]|150625\d{9})(?![\d])")


def _text(result) -> str:
    parts = []
    for event in result.get_asset_materialization_events():
        parts += [str(v.value) for v in event.materialization.metadata.values()]
    for evaluation in result.get_asset_check_evaluations():
        parts += [str(v.value) for v in evaluation.metadata.values()]
    return " ".join(parts)


def test_scoring_and_training_assets(model_county, trained_model, ffp_env):
    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.assets.scoring import feature_drift, household_scores, model_promoted, risk_model

    db = ffp_env / "warehouse.duckdb"
    shutil.copy(model_county["db"], db)
    resources = pipeline_resources(warehouse=str(db))

    # a new warehouse with no model: rules alone, the drift check passes with nothing to compare
    first = materialize_day([household_scores, feature_drift], partition_key=LAST_DAY.isoformat(), resources=resources)
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
    second = materialize_day([household_scores, feature_drift], partition_key=LAST_DAY.isoformat(), resources=resources)
    assert second.success
    meta = second.get_asset_materialization_events()[0].materialization.metadata
    assert meta["model_version"].value != "无（仅规则）"
    assert not ID_LIKE.search(_text(first) + _text(trained) + _text(second))


def test_definitions_have_the_training_job_and_weekly_schedule():
    from fangfanpin.pipeline.definitions import defs

    defs.resolve_job_def("training_job")  # raises when the job is missing
    schedule = defs.resolve_schedule_def("weekly_training_schedule")
    assert schedule.cron_schedule == "0 3 * * 1" and schedule.job_name == "training_job"
    daily = defs.resolve_job_def("daily_job")
    keys = {k.to_user_string() for k in daily.asset_layer.executable_asset_keys}
    assert "scoring/household_scores" in keys and "scoring/risk_model" not in keys


def _tamper_model_file(model_dir, version) -> None:
    path = model_dir / version / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _point_outside(model_dir, version) -> None:
    """A valid model copied outside the model folder, the pointer leading to it with ``..``."""
    from fangfanpin.models.artifacts import sha256

    shutil.copytree(model_dir / version, model_dir.parent / "elsewhere")
    (model_dir / "promoted").write_text(
        json.dumps({"version": "../elsewhere", "sha256": sha256(model_dir / version / "model.skops")}), encoding="utf-8"
    )


@pytest.mark.parametrize("damage", [_tamper_model_file, _point_outside])
def test_a_broken_or_misplaced_model_scores_by_rules_and_the_run_succeeds(model_county, trained_model, ffp_env, damage):
    """Scoring and the drift check run, probabilities are empty, the run log and the metadata say why (Chinese)."""
    import duckdb
    from dagster import DagsterInstance

    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.assets.scoring import feature_drift, household_scores
    from fangfanpin.models.artifacts import promoted_version

    db = ffp_env / "warehouse.duckdb"
    shutil.copy(model_county["db"], db)
    shutil.rmtree(ffp_env / "models", ignore_errors=True)
    shutil.copytree(trained_model["model_dir"], ffp_env / "models")
    damage(ffp_env / "models", promoted_version(ffp_env / "models")["version"])
    with DagsterInstance.ephemeral() as instance:
        result = materialize_day(
            [household_scores, feature_drift],
            partition_key=LAST_DAY.isoformat(),
            instance=instance,
            resources=pipeline_resources(warehouse=str(db)),
            raise_on_error=False,
        )
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["model_version"].value == "无（仅规则）"
    warning = meta["model_unavailable"].value
    assert warning.startswith("模型不可用（") and warning.endswith("），本次仅按规则评分"), warning
    assert any(warning in m for m in logs)
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and "模型不可用" in check.metadata["model_unavailable"].value
    with duckdb.connect(str(db), read_only=True) as con:
        scored, probabilities, warned = con.execute(
            "SELECT count(*), count(probability), count(*) FILTER (WHERE model_warning) FROM household_scores "
            "WHERE as_of_date = ?",
            [LAST_DAY],
        ).fetchall()[0]
    assert scored > 1000 and probabilities == 0 and warned == 0
