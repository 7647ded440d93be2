"""Resources: the run's settings, and the DuckDB warehouse (opened through ``fangfanpin.core.warehouse_file``:
owner-only, clear message when busy).

``PipelineSettings`` is the one settings object of a run: every asset that needs a folder, the region or the policy
takes it as a parameter, and the warehouse resource holds the same one; no asset reads the environment itself.

DuckDB has a single writer: the daily job runs its steps in one process, the instance queues one run at a time,
and every asset opens the warehouse through this resource. A run of a delivery date's partition records, when it first
opens the warehouse to write, that the date is being run (``fangfanpin.assets.delivery_runs.start_run``), whoever
launched it; an asset that only reads (the daily overview) says so and leaves the record alone. The path is resolved
when a connection is opened (not when definitions load), so ``FFP_WAREHOUSE`` set by the CLI or a test always wins
unless the settings resource names a file.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from fangfanpin.assets.delivery_runs import folder_files, start_run
from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.memory import release_freed_memory
from fangfanpin.core.settings import Settings, settings
from fangfanpin.core.warehouse_file import connect
from fangfanpin.schema import ensure_schema

PARTITION_TAG = "dagster/partition"


class PipelineSettings(ConfigurableResource):
    """Folders, warehouse file and policy file of a run. A field left empty takes its value from the environment
    when the run starts (``FFP_LANDING_DIR``, ``FFP_OUTBOX_DIR``, ``FFP_WAREHOUSE``, ``FFP_MODEL_DIR``, ``FFP_POLICY``
    and the region's defaults: docs/operations.md), so the command, the schedule and the UI agree."""

    landing_dir: str = ""
    outbox_dir: str = ""
    warehouse: str = ""
    model_dir: str = ""
    policy_file: str = ""

    def resolve(self) -> Settings:
        from_env = settings()
        return replace(
            from_env,
            landing_dir=Path(self.landing_dir) if self.landing_dir else from_env.landing_dir,
            outbox_dir=Path(self.outbox_dir) if self.outbox_dir else from_env.outbox_dir,
            warehouse=Path(self.warehouse) if self.warehouse else from_env.warehouse,
            model_dir=Path(self.model_dir) if self.model_dir else from_env.model_dir,
        )

    def policy(self) -> Policy:
        """The policy file (checked when first loaded; a run and its dates then use ``policy.as_of(day)``)."""
        return load_policy(self.policy_file or None)


class WarehouseResource(DuckDBResource):
    """DuckDB at the settings' warehouse file (``database`` overrides it), created on first use.

    Inside a run, every step shares one connection, opened by the first step that asks and closed when the run
    ends: opening and closing the file (with its checkpoint) in each of a run's steps costs more than the steps'
    own work on a small county. Outside a run (a test calling ``get_connection`` directly) each call opens and closes its own."""

    database: str = ""
    settings: PipelineSettings
    _run_connection: Any = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)
    _run: tuple[str, date] | None = PrivateAttr(default=None)  # (run id, delivery date) of a partitioned run
    _recorded: bool = PrivateAttr(default=False)  # start_run was called for the run

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._in_run = True
        run = context.dagster_run
        partition = run.tags.get(PARTITION_TAG) if run is not None else None
        self._run = (run.run_id, date.fromisoformat(partition)) if partition else None

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._run_connection is not None:
            self._run_connection.close()
        self._run_connection, self._in_run, self._run, self._recorded = None, False, None, False

    def _open(self):
        """The warehouse, every table of its schema in place (fangfanpin.schema: the one place that makes them)."""
        path = Path(self.database) if self.database else self.settings.resolve().warehouse
        con = connect(path)  # WarehouseBusyError (Chinese + English) when another process holds the file
        ensure_schema(con)
        return con

    @contextmanager
    def get_connection(self, *, writes: bool = True):
        """The warehouse. ``writes=False``: the caller only reads (a report), so its run alone does not mark the
        date as being run again (a run of the overview from the UI leaves the date done and later dates as they are)."""
        if self._in_run:
            if self._run_connection is None:
                self._run_connection = self._open()
            if writes and self._run is not None and not self._recorded:
                run_id, day = self._run
                landing = self.settings.resolve().landing_dir
                start_run(self._run_connection, day, run_id, folder_files(landing, day, digests=True))
                self._recorded = True
            con = self._run_connection
            try:
                yield con
            except BaseException:
                _rollback_if_open(con)
                raise
            finally:  # as if closed: the next caller sees no temp table of this one
                try:
                    _drop_temp_tables(con)
                except Exception:  # the connection is unusable (a fatal DuckDB error): the next caller opens anew
                    con.close()
                    self._run_connection = None
                release_freed_memory()  # what the step freed is not counted while the next step works
            return
        con = self._open()
        try:
            yield con
        finally:
            con.close()


def _rollback_if_open(con) -> None:
    try:
        con.execute("ROLLBACK")
    except Exception:  # no transaction was open
        pass


def _drop_temp_tables(con) -> None:
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


def pipeline_resources(**settings_fields: str) -> dict[str, ConfigurableResource]:
    """The resources every asset of the project needs: one settings object, and the warehouse holding it.
    ``pipeline_resources(warehouse=str(path))`` points both at another file (tests, tools)."""
    run_settings = PipelineSettings(**settings_fields)
    return {"settings": run_settings, "warehouse": WarehouseResource(settings=run_settings)}
