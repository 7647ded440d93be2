"""Opening the warehouse (core/warehouse_file.py): the row group size it writes with, one attachment per file in
a process, and its refusals."""

from __future__ import annotations

import duckdb
import pytest

from fangfanpin.core.warehouse_file import connect, kept_open

pytestmark = pytest.mark.warehouse


def _row_groups(con, table: str) -> list[int]:
    return [
        n
        for (n,) in con.execute(
            "SELECT max(count) FROM pragma_storage_info(?) GROUP BY row_group_id ORDER BY row_group_id", [table]
        ).fetchall()
    ]


def test_rows_are_written_in_row_groups_of_the_configured_size(tmp_path, monkeypatch):
    monkeypatch.setenv("FFP_DUCKDB_ROW_GROUP_SIZE", "4096")
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10000)")
        con.execute("CHECKPOINT")
        assert _row_groups(con, "t") == [4096, 4096, 1808]
    # DuckDB's own default, for comparison: one row group holds it all
    with duckdb.connect(str(tmp_path / "plain.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10000)")
        con.execute("CHECKPOINT")
        assert _row_groups(con, "t") == [10000]


def test_a_second_connection_in_the_process_shares_the_first(tmp_path):
    path = tmp_path / "w.duckdb"
    first = connect(path)
    first.execute("CREATE TABLE t AS SELECT 1 AS i")
    second = connect(path)  # attaching the file again would fail: DuckDB allows one attachment per process
    assert second.execute("SELECT i FROM t").fetchall() == [(1,)]
    second.execute("CREATE TEMP TABLE only_here AS SELECT 2 AS j")
    second.close()
    assert first.execute("SELECT i FROM t").fetchall() == [(1,)]  # closing the cursor left the first open
    assert first.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall() == [(0,)]
    first.close()
    with duckdb.connect(str(path), read_only=True) as other:  # closed: the file is free again
        assert other.execute("SELECT i FROM t").fetchall() == [(1,)]


def test_kept_open_writes_the_file_once_at_its_end(tmp_path):
    """Within ``kept_open`` every connection is a cursor of one attachment: closing one (a run's end) checkpoints
    nothing, so the commits wait in the write-ahead log until the block ends."""
    path = tmp_path / "w.duckdb"
    wal = path.with_name(path.name + ".wal")
    with kept_open(path):
        for i in range(3):  # three runs
            with connect(path) as con:
                con.execute("CREATE OR REPLACE TABLE t AS SELECT ? AS i", [i])
            assert wal.exists()
    assert not wal.exists()
    with duckdb.connect(str(path), read_only=True) as other:  # the block's end released the file
        assert other.execute("SELECT i FROM t").fetchall() == [(2,)]


def test_a_failed_transaction_of_the_first_connection_does_not_stop_a_second(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as first:
        first.execute("CREATE TABLE t AS SELECT 1 AS i")
        first.execute("BEGIN")
        with pytest.raises(duckdb.BinderException):
            first.execute("SELECT no_such_column FROM t")
        with connect(path) as second:
            assert second.execute("SELECT i FROM t").fetchall() == [(1,)]


def test_read_only_refuses_writes_and_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS i")
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT current_database(), i FROM t").fetchall() == [("warehouse", 1)]
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            con.execute("INSERT INTO t VALUES (2)")


@pytest.mark.parametrize("size", ["1000", "0", "16k"])
def test_a_row_group_size_duckdb_cannot_take_is_refused_by_name(tmp_path, monkeypatch, size):
    monkeypatch.setenv("FFP_DUCKDB_ROW_GROUP_SIZE", size)
    with pytest.raises(ValueError, match="FFP_DUCKDB_ROW_GROUP_SIZE must be a positive multiple of 2048"):
        connect(tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists()
