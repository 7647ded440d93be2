"""Opening the warehouse file: one writer at a time, a clear message when another process holds it, created
owner-only (ingest.privacy).

    con = connect(path)            # raises WarehouseBusyError (Chinese + English) if another process holds the file
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from ingest.privacy import FILE_MODE, private_dir
from pipeline.settings import settings


class WarehouseBusyError(RuntimeError):
    """Another process holds the DuckDB warehouse file (DuckDB allows one writing process)."""


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
        s = settings()
        con = duckdb.connect(str(path), read_only=read_only, config={
            "memory_limit": s.duckdb_memory_limit, "checkpoint_threshold": s.duckdb_checkpoint_threshold})
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
