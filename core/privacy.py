"""Personal data stays in the warehouse: one masking function for every text that leaves it, owner-only files.

    mask_text("张三 150625198001011234 13912345678")  # ID and phone numbers inside any text, masked
    mask_id(value), mask_phone(value)                 # a value from an ID or phone column, whatever its shape
    restrict_umask()        # every file and folder this process creates afterwards is owner-only
    private_dir(path)       # mkdir -p with 0o700 for every folder it creates

Every text built from input (a message quoting a header, a file or sheet name, a raw value, an explanation) passes
``mask_text`` before it reaches a workbook, a CSV, Dagster metadata, a log or the terminal.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# An 18-character ID (17 digits + digit/X), or a 20-character 残疾人证号 built on one (the ID + 2 digits, so an X can
# sit inside); half- or full-width digits (\d is Unicode) and X; or an ID typed with spaces between its parts
# (150625 19800101 1234). 15-digit runs are not touched in free text: the project's 户编号 are 15 digits too
# (identifier columns are never masked).
_ID_RUN = re.compile(r"(?<![\dA-Za-z])(\d{6})(?:\d{11}[\dXxＸｘ]\d{0,2}|\d{12,13}[\dXxＸｘ])(?![\dA-Za-z])")
_SPACED_ID = re.compile(r"(?<![\dA-Za-z])(\d{6})[ \u3000]?\d{4}[ \u3000]?\d{4}[ \u3000]?\d{3}[\dXxＸｘ](?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_MAYBE = re.compile(r"\d{11}|\d[ \u3000]\d")  # every pattern above needs one of these

PRIVATE_UMASK = 0o077
DIR_MODE, FILE_MODE = 0o700, 0o600


def restrict_umask() -> None:
    """Owner-only permissions for everything this process creates (warehouse, outbox, models, Dagster storage)."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``mkdir -p`` with 0o700 for every folder it creates."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask; make it exact
    return path


def mask_id(value: str | None) -> str:
    """A value from an ID column, whatever its shape: first 6 + ``********`` + last 4.

    >>> mask_id("150625198001011234"), mask_id("1.50625E+17"), mask_id("123")
    ('150625********1234', '1.5062********E+17', '****')
    """
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
    """Mask every ID number and mobile number inside free text.

    >>> mask_text("未知列「150625198001011234」，电话 13912345678")
    '未知列「150625********1234」，电话 139****5678'
    >>> mask_text("150625 19800101 123X 与 １５０６２５１９８００１０１１２３４"), mask_text("户 150625001002003")
    ('150625********123X 与 １５０６２５********１２３４', '户 150625001002003')
    """
    if value is None:
        return ""
    s = str(value)
    if len(s) < 11 or not _MAYBE.search(s):  # most text has no run of digits that could be either
        return s
    s = _ID_RUN.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], s)
    s = _SPACED_ID.sub(lambda m: m.group(1) + "********" + m.group(0)[-4:], s)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), s)
