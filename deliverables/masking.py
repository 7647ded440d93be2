"""Personal data in files that leave the warehouse: ID numbers masked everywhere (first 6 + ******** + last 4),
phone numbers masked except where a column is explicitly the village's contact phone; CSV cells that a spreadsheet
would run as a formula neutralised; atomic file writes."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ingest.privacy import private_dir
from ingest.testhooks import kill_point

# An 18-character ID (17 digits + digit/X), or a 20-character 残疾人证号 built on one (the ID + 2 digits, so an X can
# sit inside); half- or full-width digits (\d is Unicode) and X. 15-digit runs are not touched in free text: the project's
# 户编号 are 15 digits too (identifier columns are never masked).
_ID_RUN = re.compile(r"(?<![\dA-Za-z])(\d{6})(?:\d{11}[\dXxＸｘ]\d{0,2}|\d{12,13}[\dXxＸｘ])(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ELEVEN_DIGITS = re.compile(r"\d{11}")
# OWASP's CSV-injection rule: a cell starting with one of these is read by Excel/WPS as a formula (tab and CR too,
# because spreadsheets strip them and read what follows).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_id(value: str | None) -> str:
    """``150625198001011234`` → ``150625********1234``; anything shorter than 10 characters → ``****``."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s:
        return ""
    if len(s) < 10:
        return "****"
    return s[:6] + "********" + s[-4:]


def mask_phone(value: str | None) -> str:
    if value is None:
        return ""
    s = str(value).strip()
    if len(s) < 7:
        return "****" if s else ""
    return s[:3] + "****" + s[-4:]


def mask_text(value: str | None) -> str:
    """Mask every ID number and phone number inside free text (explanations, raw values, descriptions)."""
    if value is None:
        return ""
    s = str(value)
    if len(s) < 11 or not _ELEVEN_DIGITS.search(s):  # both patterns need 11 digits in a row; most text has none
        return s
    s = _ID_RUN.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], s)
    s = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), s)
    return s


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
