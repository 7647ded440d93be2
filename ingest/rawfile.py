"""What a reader gives back for one delivered file: its header, its records as text, and what it had to say."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is Chinese and names the file."""


@dataclass
class RawFile:
    path: Path
    encoding: str  # utf-8, utf-8-sig, gb18030 or xlsx
    headers: list[str]
    frame: pl.DataFrame  # one Utf8 column per header position ("c0", "c1", ...) plus _row
    problems: list[str] = field(default_factory=list)  # remarks on the whole file
    checks: frozenset[str] = frozenset()  # damage checks the cells need (ingest.damage): nul, undecodable, long
    formula_cells: list[dict] = field(default_factory=list)  # XLSX formulas without a saved result
    dropped: list[dict] = field(default_factory=list)  # records read but not in ``frame``, with the reason
    row_notes: list[dict] = field(default_factory=list)  # records in ``frame`` read with a remark

    @property
    def rows_read(self) -> int:
        return self.frame.height + len({d["row"] for d in self.dropped})
