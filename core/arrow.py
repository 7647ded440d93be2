"""Handing a polars frame to DuckDB for the length of a statement or two.

    with registered(con, "staged_rows", frame):
        con.execute("INSERT INTO roster SELECT * FROM staged_rows")

The frame goes over as Arrow string views, which DuckDB reads as they are: the default export copies every string
into a ``large_string`` buffer first, which for a 3.4-million-row roster costs 1.2 GB and over a second.
"""

from contextlib import contextmanager

import duckdb
import polars as pl


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame):
    con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        yield name
    finally:
        con.unregister(name)
