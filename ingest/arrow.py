"""Handing polars frames to DuckDB.

Exported with string views (Arrow ``string_view``), which DuckDB reads as they are: the default export copies every
string into a ``large_string`` buffer first, which for a 3.4-million-row roster costs 1.2 GB and over a second.
"""

import polars as pl

ARROW_VIEWS = pl.CompatLevel.newest()
