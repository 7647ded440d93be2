"""SQL files and transactions: the one way every stage runs its SQL against the warehouse.

    statements(CROSSCHECK_SQL / "links.sql")               # the file's statements, comments dropped (cached)
    run_file(con, path, {"d": day, "line": 6960.0})        # each statement gets exactly the $parameters it uses
    with transaction(con): ...                             # COMMIT on success, ROLLBACK on any error

Values are always bound (``$name``), never formatted into the SQL text.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@cache
def statements(path: Path) -> tuple[str, ...]:
    text = Path(path).read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return tuple(s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip())


def run_file(con: duckdb.DuckDBPyConnection, path: Path, params: dict | None = None) -> None:
    """Run every statement of ``path``, binding the ``$name`` parameters each statement uses."""
    params = params or {}
    for statement in statements(Path(path)):
        used = set(_PARAM.findall(statement))
        missing = used - params.keys()
        if missing:
            raise KeyError(f"{Path(path).name} needs parameters {sorted(missing)}")
        con.execute(statement, {k: params[k] for k in used} if used else None).fetchall()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """One DuckDB transaction: readers never see a half-written stage."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
