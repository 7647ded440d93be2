"""Opening the warehouse file: one writer at a time, a clear message when another process holds it, created
owner-only (core.privacy).

    con = connect(path)            # raises WarehouseBusyError (Chinese + English) if another process holds the file
    with kept_open(path):          # a command running several dates: attached once, checkpointed once at the end
        ...
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fangfanpin.core.privacy import FILE_MODE, private_dir
from fangfanpin.core.settings import settings


class WarehouseBusyError(RuntimeError):
    """Another process holds the DuckDB warehouse file (DuckDB allows one writing process)."""


def busy_message(path: Path, error: Exception | None = None) -> str:
    pid = re.search(r"PID (\d+)", str(error or ""))
    who, who_en = (f"（进程号 {pid.group(1)}）", f" (PID {pid.group(1)})") if pid else ("", "")
    return (
        f"数据仓库文件 {path} 正被另一个进程占用{who}，同一时间只能有一个进程写入。请等待该进程结束或先停止它，再重新运行。"
        f" / The warehouse file {path} is in use by another process{who_en}; only one process may write to it. "
        f"Wait for that process to finish or stop it, then run again."
    )


_OPEN: dict[Path, duckdb.DuckDBPyConnection] = {}  # the connection that attached each file in this process


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (created owner-only on first use).

    The file is attached to an in-memory catalog (and made the default database) rather than opened directly, because
    only ATTACH takes a row group size (``Settings.duckdb_row_group_size``). A file is attached once per process: a
    second ``connect`` while the first connection is open gets a cursor of it (as DuckDB's own connection cache did),
    and with it the first one's mode."""
    path, s = Path(path), settings()
    key = path.resolve()
    if (shared := _cursor_of_open(key)) is not None:
        return shared
    if not read_only:
        private_dir(path.parent)
    # beyond the memory limit DuckDB spills to disk, so the process peak stays near it
    con = duckdb.connect(
        config={"memory_limit": s.duckdb_memory_limit, "checkpoint_threshold": s.duckdb_checkpoint_threshold}
    )
    try:
        con.execute(
            "ATTACH ? AS warehouse (ROW_GROUP_SIZE ?, READ_ONLY ?)", [str(path), s.duckdb_row_group_size, read_only]
        )
        con.execute("USE warehouse")
    except duckdb.Error as error:
        con.close()
        if "lock" in str(error).lower():
            raise WarehouseBusyError(busy_message(path, error)) from None
        raise
    _OPEN[key] = con
    if not read_only:
        for p in (path, path.with_name(path.name + ".wal")):
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, FILE_MODE)
    return con


def _cursor_of_open(key: Path) -> duckdb.DuckDBPyConnection | None:
    """A cursor of the connection that attached the file ``key`` in this process, if that one is still open (whatever
    the state of its own transaction: a cursor is a connection of its own)."""
    con = _OPEN.get(key)
    if con is None:
        return None
    try:
        cursor = con.cursor()
        cursor.execute("USE warehouse")  # a cursor starts in the in-memory catalog
    except duckdb.ConnectionException:  # closed since: the file is free to attach again
        del _OPEN[key]
        return None
    except duckdb.FatalException:  # a fatal error in a run invalidated it (kept_open outlives runs): attach anew
        del _OPEN[key]
        con.close()
        return None
    return cursor


def ensure_not_busy(path: Path) -> None:
    """Raise WarehouseBusyError now (before a run starts) if another process holds the warehouse."""
    if Path(path).exists():
        connect(path).close()


@contextmanager
def kept_open(path: Path) -> Iterator[None]:
    """Within this block the warehouse stays attached in this process: every ``connect`` (each run's steps, the
    reads between runs, read-only or not) gets a cursor of this read-write connection instead of attaching the file
    and, on closing it, checkpointing it. A command running several dates so checkpoints the file at its end (and
    when the write-ahead log outgrows ``FFP_DUCKDB_CHECKPOINT_THRESHOLD``), not after every date, and holds it from
    the first date to the last: no other process writes in between. What a date committed is in the write-ahead
    log, which the next attach replays if the command is killed. A global ``SET`` now outlives its run: reset it."""
    con = connect(path)
    try:
        yield
    finally:
        con.close()
