"""The local Dagster instance's event log: Dagster's own SQLite storage, with its connections kept open.

Dagster's ``SqliteEventLogStorage`` creates an engine, opens a connection, commits, closes it and disposes of the
engine for every event it stores, and closing the last connection of a WAL database checkpoints it. A daily run
stores a few hundred events (the planned ones, step starts and successes, materialisations, check results), each
paying for a new engine and a checkpoint. This subclass keeps one engine with one open connection
for each of the few database files a process writes (a run's own file and the index; the oldest is closed beyond
``OPEN_FILES``), remembers tables it has seen (Dagster asks SQLite whether the asset-check table exists for every
check result), and lets SQLite sync its WAL at checkpoints only (``synchronous=NORMAL``, SQLite's advice for WAL).
A crash of the machine can lose the last events of a run's log, not corrupt it; the warehouse is DuckDB, not this.

``fangfanpin`` names this class in the ``dagster.yaml`` it writes; production uses PostgreSQL (deploy/dagster.yaml).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

OPEN_FILES = 4  # a run's file and the index are all a daily run writes; the webserver reads a few more


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that keeps a connection open per database file instead of one per event."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, opened on first use; called with ``_db_lock`` held, which also serialises the one
        connection (StaticPool) between the webserver's threads."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            with engine.connect() as conn:  # StaticPool: this is the engine's one connection, kept open
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        self._engines[shard] = engine  # most recently used last
        while len(self._engines) > OPEN_FILES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._tables_seen and super().has_table(table_name):
            self._tables_seen.add(table_name)  # a table, once there, stays (wipe empties it, never drops it)
        return table_name in self._tables_seen

    def _close_files(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_files()  # the files are deleted under them
        super().wipe()

    def dispose(self) -> None:
        self._close_files()
        super().dispose()
