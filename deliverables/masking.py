"""Files that leave the warehouse: ID numbers masked everywhere (first 6 + ******** + last 4) and phone numbers
masked except where a column is explicitly the village's contact phone (the masking itself is ``fangfanpin.core.privacy``'s,
the one function every text from input goes through); CSV cells that a spreadsheet would run as a formula
neutralised; atomic file writes."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from fangfanpin.core.privacy import mask_id, mask_phone, mask_text, private_dir
from fangfanpin.core.testhooks import kill_point

__all__ = [
    "FORMULA_PREFIXES",
    "atomic_write_bytes",
    "mask_id",
    "mask_phone",
    "mask_text",
    "masked",
    "neutralised",
    "safe_filename",
]

# OWASP's CSV-injection rule: a cell starting with one of these is read by Excel/WPS as a formula (tab and CR too,
# because spreadsheets strip them and read what follows).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cells: pl.Expr) -> pl.Expr:
    r"""CSV cells that a spreadsheet cannot run: a string starting with = + - @ tab or CR gets a leading single quote
    (OWASP); other strings are left as they are.

    >>> s = pl.Series(['=HYPERLINK("http://x","点")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "张三", "a=b", "", None])
    >>> pl.select(neutralised(pl.lit(s))).to_series().to_list()
    ['\'=HYPERLINK("http://x","点")', "'+1", "'-2", "'@SUM(A1)", "'\t=1", "'\r=1", '张三', 'a=b', '', None]
    """
    starts_formula = pl.any_horizontal(cells.str.starts_with(p) for p in FORMULA_PREFIXES)
    return pl.when(starts_formula).then(pl.lit("'") + cells).otherwise(cells)


def masked(texts: pl.Expr, mask: Callable[[str | None], str]) -> pl.Expr:
    """``texts`` passed through a masking function of ``fangfanpin.core.privacy`` (``mask_id``, ``mask_text``), once a
    distinct text; a null comes out as the function gives it for None (an empty string).

    >>> pl.select(masked(pl.lit(pl.Series(["150625198001011234", None, "150625198001011234"])), mask_id)).to_series().to_list()
    ['150625********1234', '', '150625********1234']
    """
    return texts.map_batches(
        lambda s: s.replace_strict({t: mask(t) for t in s.unique().to_list()}, return_dtype=pl.Utf8),
        return_dtype=pl.Utf8,
    )


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write to a temporary name in the same folder, then rename: a reader never sees a half-written file.
    Folders are created 0o700 and the file is 0o600 (mkstemp), owner-only: the outbox holds personal data."""
    path = Path(path)
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        kill_point("deliverables")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def safe_filename(text: str | None) -> str:
    """A file-name component from feed text: no path separators, control characters or leading dots."""
    s = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", str(text or "")).strip().lstrip(".")
    return s[:60] or "未知"
