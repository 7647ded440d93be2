"""Opening the warehouse file: one writer at a time, a clear message when another process holds it, and personal
data kept private on disk (directories 0o700, files 0o600).

    con = connect(path)            # raises WarehouseBusyError (Chinese + English) if another process holds the file
    restrict_umask()               # every file and folder this process creates afterwards is owner-only
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from pipeline.settings import settings

PRIVATE_UMASK = 0o077
DIR_MODE, FILE_MODE = 0o700, 0o600


class WarehouseBusyError(RuntimeError):
    """Another process holds the DuckDB warehouse file (DuckDB allows one writing process)."""


def restrict_umask() -> None:
    """Owner-only permissions for everything this process creates (warehouse, outbox, models, Dagster storage)."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``mkdir -p`` with 0o700 for every folder it creates."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask; make it exact
    return path


def busy_message(path: Path, error: Exception | None = None) -> str:
    pid = re.search(r"PID (\d+)", str(error or ""))
    who, who_en = (f"（进程号 {pid.group(1)}）", f" (PID {pid.group(1)})") if pid else ("", "")
    return (f"数据仓库文件 {path} 正被另一个进程占用{who}，同一时间只能有一个进程写入。请等待该进程结束或先停止它，再重新运行。"
            f" / The warehouse file {path} is in use by another process{who_en}; only one process may write to it. "
            f"Wait for that process to finish or stop it, then run again.")


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (created owner-only on first use)."""
    path = Path(path)
    if not read_only:
        private_dir(path.parent)
    try:  # beyond the memory limit DuckDB spills to disk, so the process peak stays near it
        con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": settings().duckdb_memory_limit})
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusyError(busy_message(path, error)) from None
        raise
    if not read_only:
        for p in (path, path.with_name(path.name + ".wal")):
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, FILE_MODE)
    return con


def ensure_not_busy(path: Path) -> None:
    """Raise WarehouseBusyError now (before a run starts) if another process holds the warehouse."""
    if Path(path).exists():
        connect(path).close()
