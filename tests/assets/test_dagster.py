"""The ingest stage through Dagster: materialize() of the assets, then the whole Definitions through the CLI."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import duckdb
import pytest
import yaml
from dagster import (
    AssetCheckEvaluation,
    AssetSelection,
    DagsterInstance,
    MarkdownMetadataValue,
    RunsFilter,
    TableMetadataValue,
)
from dagster_helpers import materialize_day
from landing_helpers import copy_delivery
from paths import REPO
from privacy_helpers import full_id_numbers

from fangfanpin.assets.constants import DELIVERY_PARTITIONS
from fangfanpin.assets.ingest import ingest_assets, ingest_checks
from fangfanpin.assets.resources import pipeline_resources
from fangfanpin.ingest.read import delivery_dates
from fangfanpin.pipeline.event_log import PooledSqliteEventLogStorage
from fangfanpin.pipeline.job_runs import DEFINITIONS_MODULE, LOCATION_NAME, REPOSITORY_NAME

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=31)]


def test_materialize_ingest_assets_for_one_partition(small_landing, ffp_env):
    day = delivery_dates(small_landing)[0]
    copy_delivery(small_landing, day, ffp_env / "landing")
    result = materialize_day(
        [*ingest_assets, *ingest_checks],
        partition_key=day.isoformat(),
        resources=pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb")),
    )
    assert result.success
    roster = next(m for m in result.get_asset_materialization_events() if m.asset_key.path[-1] == "roster")
    metadata = roster.step_materialization_data.materialization.metadata
    assert metadata["dagster/row_count"].value > 0
    assert metadata["reconciles"].value is True
    checks = {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("roster", "contract_structure")]
    assert checks[("roster", "counts_reconcile")]
    assert all(
        passed
        for (feed, name), passed in checks.items()
        if name in ("contract_structure", "counts_reconcile", "reports_placed")
    )


def test_definitions_load_and_cli_runs_are_recorded_in_the_instance(small_landing, ffp_env):
    from fangfanpin.pipeline.cli import main
    from fangfanpin.pipeline.definitions import defs

    defs.resolve_job_def("daily_job")  # raises when the job is missing
    assert {s.name for s in defs.schedules} == {"daily_schedule", "weekly_training_schedule"}
    assert {s.name for s in defs.sensors} == {"new_delivery_sensor"}
    # the deployment runs the daemon: deliveries are processed as they arrive, the model retrained weekly
    assert {s.default_status.value for s in [*defs.schedules, *defs.sensors]} == {"RUNNING"}
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text(encoding="utf-8"))
    assert workspace["load_from"][0]["python_module"] == {
        "module_name": DEFINITIONS_MODULE,
        "working_directory": ".",
        "location_name": LOCATION_NAME,
    }
    days = delivery_dates(small_landing)[:2]
    for day in days:
        copy_delivery(small_landing, day, ffp_env / "landing")
    assert main(["run", "--pending"]) in (0, 2)
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)  # the dagster.yaml the CLI wrote
        runs = instance.get_runs()
        assert len(runs) == 2
        assert {r.tags.get("dagster/partition") for r in runs} == {d.isoformat() for d in days}
        # as a run launched from the UI: under the daily job of the workspace's code location, on its timeline
        label = {".dagster/repository": f"{REPOSITORY_NAME}@{LOCATION_NAME}"}  # what the job's Runs tab asks for
        assert len(instance.get_runs(RunsFilter(job_name="daily_job", tags=label))) == 2
        assert {r.remote_job_origin.location_name for r in runs} == {LOCATION_NAME}
        assert {r.job_name for r in runs} == {"daily_job"}
        # the partitions are the delivery dates run, nothing else
        assert instance.get_dynamic_partitions(DELIVERY_PARTITIONS.name) == [d.isoformat() for d in days]
        _assert_daily_metadata(defs, instance)
    with duckdb.connect(str(ffp_env / "warehouse.duckdb"), read_only=True) as con:
        processed = {r[0] for r in con.execute("SELECT DISTINCT delivery_date FROM deliveries").fetchall()}
    assert processed == set(days)
    assert main(["run", "--pending"]) == 0  # nothing left


def _assert_daily_metadata(defs, instance) -> None:
    """Every asset of the daily job reports a row count and a column schema (the overview, a report, its tables and
    counts), charts are PNGs, data-quality kinds are Chinese, and no metadata value holds a full ID number."""
    from fangfanpin.assets.overview import OVERVIEW_KEY

    counts = ("feeds_late", "feeds_overdue", "rows_loaded", "rows_quarantined", "new_warnings", "cases_overdue")

    daily = defs.resolve_job_def("daily_job").asset_layer.selected_asset_keys
    assert OVERVIEW_KEY in daily
    for spec in defs.resolve_all_asset_specs():
        if spec.group_name == "model_training":
            continue
        event = instance.get_latest_materialization_event(spec.key)
        assert event is not None, spec.key
        metadata = event.asset_materialization.metadata
        if spec.key == OVERVIEW_KEY:
            assert isinstance(metadata["summary"], MarkdownMetadataValue) and "新增预警" in metadata["summary"].value
            tables = ("feeds", "warnings_by_rule", "overdue_cases", "quality_by_kind")
            assert all(isinstance(metadata[k], TableMetadataValue) for k in tables)
            assert all(isinstance(metadata[k].value, int) for k in counts)  # plotted across dates
            assert [c.name for c in metadata["feeds"].schema.columns][:2] == ["数据集（报送部门）", "时效"]
        else:
            assert "dagster/row_count" in metadata, spec.key
            assert "dagster/column_schema" in metadata or "dagster/column_schema" in spec.metadata, spec.key
        if spec.key.path[-1] == "data_quality_issues":
            kinds = metadata["issues_by_kind"].value
            assert not re.search(r"\b[a-z]+_[a-z_]+\b", kinds) and "无法关联到花名册" in kinds, kinds
        for name, value in metadata.items():
            text = str(value.value)
            if name.endswith("_chart"):
                assert "data:image/png;base64," in text, (spec.key, name)
            assert not full_id_numbers(text), (spec.key, name)


def test_every_asset_has_owners_kinds_group_description_and_a_column_schema():
    """Every asset of the whole Definitions is findable and explained in the UI."""
    from fangfanpin.pipeline.definitions import defs

    specs = defs.resolve_all_asset_specs()
    assert len(specs) >= 20
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.owners and all(o.startswith("team:") for o in spec.owners), name
        assert spec.kinds, name
        assert spec.group_name and spec.group_name != "default", name
        assert spec.description and len(spec.description) > 20, name
    ingest = [s for s in specs if s.group_name == "ingest"]
    assert ingest and all("dagster/column_schema" in s.metadata for s in ingest)
    for check in defs.resolve_asset_graph().asset_check_keys:
        spec = defs.resolve_asset_graph().get_check_spec(check)
        assert spec.description, check


def test_each_feed_checks_in_one_step_blocking_for_structure_and_counts_only():
    """One step per feed (the checks share their rows); structure and reconciliation block the downstream stages,
    drift warns and a held snapshot is an error that does not block (docs/operations.md)."""
    from fangfanpin.assets.ingest.checks import ingest_checks as feed_checks
    from fangfanpin.data_contracts import all_contracts

    assert len(feed_checks) == len(all_contracts()) and set(feed_checks) <= set(ingest_checks)
    for checks, contract in zip(feed_checks, all_contracts()):
        specs = {spec.name: spec for spec in checks.check_specs}
        expected = {
            "contract_structure": True,
            "counts_reconcile": True,
            "reports_placed": True,
            "drift": False,
            "files_accepted": False,
            "freshness": False,
        }
        if contract.kind == "snapshot":
            expected["snapshot_applied"] = False
        assert {name: spec.blocking for name, spec in specs.items()} == expected, contract.feed
        assert {spec.asset_key.path[-1] for spec in specs.values()} == {contract.feed}


def test_a_refused_file_and_a_late_feed_are_failed_checks(small_landing, ffp_env):
    """A delivery with one file refused whole and one feed never delivered: both show as failed ERROR checks on their
    assets (the run still succeeds); a feed delivered on time passes its freshness check."""
    from dagster import AssetCheckSeverity

    day = delivery_dates(small_landing)[0]
    folder = copy_delivery(small_landing, day, ffp_env / "landing")
    (folder / "county_decisions_150625_extra.csv").write_text("户编号,决定日期\n1,2026-01-01\n", encoding="utf-8")
    for path in folder.glob("medical_claims*"):
        path.unlink()
    result = materialize_day(
        [*ingest_assets, *ingest_checks],
        partition_key=day.isoformat(),
        resources=pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb")),
    )
    assert result.success
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    refused = checks[("county_decisions", "files_accepted")]
    assert not refused.passed and refused.severity == AssetCheckSeverity.ERROR
    assert "county_decisions_150625_extra.csv" in refused.metadata["refused"].value
    assert checks[("roster", "files_accepted")].passed
    never = checks[("medical_claims", "freshness")]
    assert not never.passed and never.severity == AssetCheckSeverity.ERROR
    assert "从未交付" in never.metadata["message"].value
    assert checks[("roster", "freshness")].passed


def test_a_snapshot_resent_unchanged_says_so_in_metadata_checks_and_summary(small_landing, ffp_env):
    """The roster and housing files re-sent byte for byte on two more days: the assets' metadata and the drift check
    say they were the same as the day before and not read again, and the command's summary lists them. The structure
    check runs on the copied rows while the delivery they copy has no passed check (the first day ran without its
    checks); the day after, it takes the result of the day before, whose check passed on the same files."""
    from fangfanpin.pipeline.run_summary import resent_unchanged

    day = delivery_dates(small_landing)[0]
    nxt, third = day + timedelta(days=1), day + timedelta(days=2)
    feeds = ["roster", "housing_safety"]
    copy_delivery(small_landing, day, ffp_env / "landing", feeds)
    for later in (nxt, third):
        shutil.copytree(ffp_env / "landing" / day.isoformat(), ffp_env / "landing" / later.isoformat())
    chosen = [a for a in ingest_assets if a.key.path[-1] in feeds]
    checks = [c for c in ingest_checks if {k.asset_key.path[-1] for k in c.check_keys} <= set(feeds)]
    instance = DagsterInstance.ephemeral()
    evaluations = {}
    for partition, with_checks in ((day, False), (nxt, True), (third, True)):
        result = materialize_day(
            [*chosen, *checks],
            partition_key=partition.isoformat(),
            instance=instance,
            resources=pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb")),
            selection=AssetSelection.assets(*chosen)
            if with_checks
            else AssetSelection.assets(*chosen).without_checks(),
        )
        assert result.success
        evaluations[partition] = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    for m in result.get_asset_materialization_events():
        metadata = m.step_materialization_data.materialization.metadata
        assert metadata["same_as"].value == f"与上次交付相同（{nxt}），未重新解析"
        assert f"与上次交付相同（{nxt}），未重新解析" in metadata["files"].value
        assert metadata["message"].value.endswith(f"（与上次交付相同（{nxt}），未重新解析）")
    drift = evaluations[nxt][("roster", "drift")]
    assert drift.passed and "未重新解析" in drift.metadata["note"].value
    checked = evaluations[nxt][("roster", "contract_structure")]
    assert checked.passed and "检查照常进行" in checked.metadata["same_as"].value
    assert checked.metadata["expectations"].value > 0
    taken = evaluations[third][("roster", "contract_structure")]
    assert taken.passed and taken.metadata["same_as"].value.endswith("那次的契约检查已通过，未重新检查")
    for name in ("rows", "expectations", "fingerprint", "great_expectations"):
        assert taken.metadata[name].value == checked.metadata[name].value, name
    # the newest check of the copied delivery failed (as when a suite is stricter after the files came): run again
    fourth = day + timedelta(days=3)
    shutil.copytree(ffp_env / "landing" / day.isoformat(), ffp_env / "landing" / fourth.isoformat())
    instance.report_runless_asset_event(
        AssetCheckEvaluation(
            asset_key=taken.asset_key,
            check_name=taken.check_name,
            passed=False,
            metadata=taken.metadata,
            severity=taken.severity,
            partition=taken.partition,
        )
    )
    result = materialize_day(
        [*chosen, *checks],
        partition_key=fourth.isoformat(),
        instance=instance,
        resources=pipeline_resources(warehouse=str(ffp_env / "warehouse.duckdb")),
        selection=AssetSelection.assets(*chosen),
    )
    again = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert "检查照常进行" in again[("roster", "contract_structure")].metadata["same_as"].value
    with duckdb.connect(str(ffp_env / "warehouse.duckdb"), read_only=True) as con:
        lines = resent_unchanged(con, [day, nxt])
    assert lines == [
        f"{nxt}：与上次交付相同，未重新解析：农村房屋安全鉴定及改造（同 {day}）、农户及家庭成员信息（同 {day}） / "
        "2 snapshot(s) re-sent unchanged, not read again"
    ]
