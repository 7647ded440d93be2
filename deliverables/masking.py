"""Files that leave the warehouse: ID numbers masked everywhere (first 6 + ******** + last 4) and phone numbers
masked except where a column is explicitly the village's contact phone (the masking itself is ``fangfanpin.core.privacy``'s,
the one function every text from input goes through); CSV cells that a spreadsheet would run as a formula
neutralised; atomic file writes."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from fangfanpin.core.privacy import mask_id, mask_phone, mask_text, private_dir
from fangfanpin.core.testhooks import kill_point

__all__ = [
    "FORMULA_PREFIXES",
    "atomic_write_bytes",
    "mask_id",
    "mask_phone",
    "mask_text",
    "neutralise_formula",
    "safe_filename",
]

# OWASP's CSV-injection rule: a cell starting with one of these is read by Excel/WPS as a formula (tab and CR too,
# because spreadsheets strip them and read what follows).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    r"""A CSV cell that a spreadsheet cannot run: a string starting with = + - @ tab or CR gets a leading single quote
    (OWASP); other strings, and values that are not strings (a negative number stays a number), are left as they are.

    >>> print(neutralise_formula('=HYPERLINK("http://x","点")'))
    '=HYPERLINK("http://x","点")
    >>> [neutralise_formula(v) for v in ("+1", "-2", "@SUM(A1)", "\t=1", "\r=1")]
    ["'+1", "'-2", "'@SUM(A1)", "'\t=1", "'\r=1"]
    >>> neutralise_formula("张三"), neutralise_formula("a=b"), neutralise_formula(""), neutralise_formula(-2.5)
    ('张三', 'a=b', '', -2.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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
