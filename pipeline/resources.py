"""Resources: the DuckDB warehouse (opened through ``pipeline.warehouse_file``: owner-only, clear message when busy).

DuckDB has a single writer: the daily job runs its steps in one process, the instance queues one run at a time,
and every asset opens the warehouse through this resource. The path is resolved when a connection is opened (not
when definitions load), so ``FFP_WAREHOUSE`` set by the CLI or a test always wins.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from dagster_duckdb import DuckDBResource

from pipeline.settings import settings
from pipeline.warehouse_file import connect


class WarehouseResource(DuckDBResource):
    """DuckDB at ``FFP_WAREHOUSE`` (``database`` overrides it), created on first use."""

    database: str = ""

    @contextmanager
    def get_connection(self):
        path = Path(self.database) if self.database else settings().warehouse
        con = connect(path)  # WarehouseBusyError (Chinese + English) when another process holds the file
        try:
            yield con
        finally:
            con.close()


def warehouse_resource() -> WarehouseResource:
    return WarehouseResource()
