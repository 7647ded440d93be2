"""The local instance's event log (pipeline/event_log.py): Dagster's SQLite files, written through open connections."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.event_log import SqliteEventLogStorage

from fangfanpin.pipeline.event_log import OPEN_FILES, PooledSqliteEventLogStorage
from fangfanpin.pipeline.launch import INSTANCE_CONFIG_MARK, instance_config, prepare_environment

pytestmark = pytest.mark.dagster


def _instance(home) -> DagsterInstance:
    (home / "dagster.yaml").write_text(instance_config(home), encoding="utf-8")
    return DagsterInstance.from_config(str(home))


def _run(instance: DagsterInstance, n: int) -> DagsterRun:
    return instance.add_run(DagsterRun(job_name="daily_job", run_id=f"{n:08d}-0000-0000-0000-000000000000"))


def test_events_written_through_open_connections_are_read_by_a_second_process_storage(tmp_path):
    with _instance(tmp_path) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run = _run(instance, 1)
        for i in range(5):
            instance.report_engine_event(f"事件 {i}", run)
        # the webserver reads the same files with its own storage while this one keeps them open
        reader = SqliteEventLogStorage(str(tmp_path / "history" / "runs"))
        assert [e.message for e in reader.get_logs_for_run(run.run_id)][-5:] == [f"事件 {i}" for i in range(5)]
        assert [e.message for e in instance.all_logs(run.run_id)][-5:] == [f"事件 {i}" for i in range(5)]
        with instance.event_log_storage.run_connection(run.run_id) as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: the WAL syncs at checkpoints


def test_only_a_few_files_stay_open_and_wipe_closes_them_first(tmp_path):
    with _instance(tmp_path) as instance:
        storage = instance.event_log_storage
        runs = [_run(instance, n) for n in range(OPEN_FILES + 3)]
        for run in runs:
            instance.report_engine_event("开始", run)
        assert len(storage._engines) == OPEN_FILES
        assert all(len(instance.all_logs(run.run_id)) == 1 for run in runs)  # closed files reopen when read
        storage.wipe()
        assert all(len(instance.all_logs(run.run_id)) == 0 for run in runs)
        instance.report_engine_event("再次开始", runs[0])
        assert len(instance.all_logs(runs[0].run_id)) == 1


def test_the_cli_keeps_its_own_instance_config_current_and_leaves_a_hand_written_one(ffp_env):
    home = ffp_env / "dagster"
    home.mkdir()
    config = home / "dagster.yaml"
    config.write_text(f"{INSTANCE_CONFIG_MARK}\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n", encoding="utf-8")
    prepare_environment()  # an older file of ours gains the event log
    assert config.read_text(encoding="utf-8") == instance_config(home.resolve())
    config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    prepare_environment()
    assert config.read_text(encoding="utf-8") == "telemetry:\n  enabled: false\n"
