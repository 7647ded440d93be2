"""What is in a delivery folder: every entry, the feed it belongs to, and why an entry is not read.

    entries = scan_delivery(landing_dir, day)

A file belongs to a feed by its name: ``<feed>.csv|xlsx`` or ``<feed>_<anything>.csv|xlsx``, in any case. Nothing in
the folder is passed over without a trace; these entries are not read, and each carries its reason:

- a name that matches no feed (a typo, an Excel 97-2003 ``.xls``, a text file), with the feed it most resembles;
- a symbolic link leading out of the landing folder: following it would read, and quote in a workbook, any file the
  pipeline's account can see;
- anything that is not a regular file (a folder, a pipe that would block the run, a broken link).

``record_landing`` keeps the list for the date in the warehouse table ``landing_files``; the entries that were not
read reach the data-quality sheet of the county named in the file name (else the unplaced list).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from fangfanpin.core.arrow import registered
from fangfanpin.core.sql import transaction
from fangfanpin.data_contracts import FEED_NAMES, all_contracts

SUFFIXES = (".csv", ".xlsx")

P_NO_FEED = "文件名不对应任何数据集，未读取（文件名应为「数据集名.csv」或「数据集名_任意.xlsx」，数据集名：{feeds}）"
P_LIKE_FEED = "文件名不对应任何数据集，未读取；疑似「{feed}」（文件名应以数据集名开头，扩展名为 .csv 或 .xlsx）"
P_XLS = "是旧版 Excel 97-2003 文件（.xls），未读取；请另存为 .xlsx 后重新报送"
P_LINK_OUT = "是指向落地目录以外位置的符号链接，出于安全未读取"
P_NOT_FILE = "不是普通文件（{what}），未读取"


@dataclass(frozen=True)
class LandingEntry:
    name: str
    path: Path
    feed: str | None  # the feed whose delivery it is, by its name
    size: int | None
    problem: str | None  # why it is not read; None for a file that is read

    @property
    def read(self) -> bool:
        return self.feed is not None and self.problem is None


def feed_of(name: str) -> str | None:
    """The feed a file name belongs to, or None.

    >>> feed_of("Visit_Results_150625.XLSX"), feed_of("roster.csv"), feed_of("rosters.csv"), feed_of("roster.xls")
    ('visit_results', 'roster', None, None)
    >>> feed_of("走访结果_150625_20261120.xlsx"), feed_of("县级决定.xlsx")
    ('visit_results', 'county_decisions')
    """
    lowered = name.lower()
    if not lowered.endswith(SUFFIXES):
        return None
    stem = lowered.rsplit(".", 1)[0]
    return next((feed for prefix, feed in _name_prefixes() if stem == prefix or stem.startswith(prefix + "_")), None)


@cache
def _name_prefixes() -> tuple[tuple[str, str], ...]:
    """(file name prefix, feed): every feed's name, and a return feed's Chinese title as its template is named;
    longest first, so that no name is taken by a shorter one it starts with."""
    pairs = [(f, f) for f in FEED_NAMES] + [(c.file_title, c.feed) for c in all_contracts() if c.file_title]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def scan_delivery(landing_dir: Path, day: date) -> list[LandingEntry]:
    """Every entry of the date's delivery folder, by name (empty when the folder does not exist)."""
    root = Path(landing_dir)
    folder = root / day.isoformat()
    if not folder.is_dir():
        return []
    inside = os.path.realpath(root)
    entries = []
    with os.scandir(folder) as scan:
        for item in sorted(scan, key=lambda e: e.name):
            entries.append(_entry(Path(item.path), item.name, inside))
    return entries


def _entry(path: Path, name: str, inside: str) -> LandingEntry:
    feed = feed_of(name)
    if path.is_symlink() and os.path.commonpath([inside, os.path.realpath(path)]) != inside:
        return LandingEntry(name, path, feed, None, P_LINK_OUT)
    try:
        info = path.stat()
    except OSError:
        return LandingEntry(name, path, feed, None, P_NOT_FILE.format(what="失效的链接"))
    if not stat.S_ISREG(info.st_mode):
        what = "文件夹" if stat.S_ISDIR(info.st_mode) else "管道、设备或套接字"
        return LandingEntry(name, path, feed, None, P_NOT_FILE.format(what=what))
    if feed is not None:
        return LandingEntry(name, path, feed, info.st_size, None)
    return LandingEntry(name, path, None, info.st_size, _why_no_feed(name))


def _why_no_feed(name: str) -> str:
    stem, _, suffix = name.lower().rpartition(".")
    if suffix == "xls" and feed_of(stem + ".xlsx"):
        return P_XLS
    prefix = re.split(r"[_.]\d", stem or name.lower())[0]
    near = difflib.get_close_matches(prefix, [p for p, _ in _name_prefixes()], n=1, cutoff=0.75)
    if near:
        return P_LIKE_FEED.format(feed=near[0])
    return P_NO_FEED.format(feeds="、".join(p for p, _ in sorted(_name_prefixes())))


def county_in_name(name: str, known_counties: frozenset[str]) -> str | None:
    """The county a file name names: a 6-digit county code, or a 12-digit village code's first six digits.

    >>> county_in_name("vist_results_150625.xlsx", frozenset({"150625"})), county_in_name("x.csv", frozenset())
    ('150625', None)
    """
    for digits in re.findall(r"\d+", name):
        if len(digits) in (6, 12) and digits[:6] in known_counties:
            return digits[:6]
    return None


def record_landing(
    con: duckdb.DuckDBPyConnection, day: date, entries: list[LandingEntry], known_counties: frozenset[str]
) -> None:
    """Replace the date's list of delivered entries (one transaction; re-running the date gives the same list)."""
    frame = pl.DataFrame(
        {
            "delivery_date": [day] * len(entries),
            "name": [e.name for e in entries],
            "feed": [e.feed for e in entries],
            "bytes": [e.size for e in entries],
            "problem": [e.problem for e in entries],
            "county_code": [county_in_name(e.name, known_counties) for e in entries],
        },
        schema={
            "delivery_date": pl.Date,
            "name": pl.Utf8,
            "feed": pl.Utf8,
            "bytes": pl.Int64,
            "problem": pl.Utf8,
            "county_code": pl.Utf8,
        },
    )
    with transaction(con):
        con.execute("DELETE FROM landing_files WHERE delivery_date = ?", [day])
        with registered(con, "landing_rows", frame):
            con.execute("INSERT INTO landing_files SELECT * FROM landing_rows")
