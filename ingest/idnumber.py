"""公民身份号码 (resident ID number, GB 11643-1999): a python-stdnum style scalar API, following docs/feeds.md.

Valid means: 18 characters (17 digits + check character by ISO 7064 MOD 11-2), a real birth date between
1900-01-01 and the data date, and a province code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82, 83) as the
first two digits. A retired, renamed or unknown six-digit county code is still valid (reported, never rejected),
unlike ``stdnum.cn.ric`` which rejects codes not in its table. A 15-digit old number is converted to 18 digits and
a 20-character 残疾人证号 (ID + 2 digits of disability category and grade) stands for its first 18 characters; both
with a note. Numbers that Excel turned into scientific notation are unrecoverable.

    >>> len(validate('１５０１０２８８０７３０３０３', date(2026, 11, 23)))   # full-width, 15 digits → 18
    18
    >>> validate_with_notes('150102880730303', date(2026, 11, 23))[1]
    ('15位旧号码已转换为18位',)
    >>> is_valid('1.50625E+17')
    False

The vectorised twin for polars Series is ``ingest.normalize.normalize_id``; the two agree (tests/ingest/test_normalize.py).
The error messages here are exactly the ``problem`` strings of the vectorised version.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum.cn.ric import calc_check_digit
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

__all__ = [
    "PROVINCE_CODES",
    "MIN_BIRTH_DATE",
    "compact",
    "validate",
    "validate_with_notes",
    "is_valid",
    "to_18",
    "ValidationError",
]

# First two digits: provinces (GB/T 2260) plus 71 台湾 and 81/82/83 (港澳台居民居住证).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(p) for r in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65)) for p in range(r[0], r[1] + 1)]
    + ["71", "81", "82", "83"]
)
MIN_BIRTH_DATE = date(1900, 1, 1)

# Problems (exception messages) and notes; shared with ingest.normalize so that the two agree word for word.
P_SCIENTIFIC = "Excel科学计数法，号码已无法恢复"
P_LENGTH = "长度不是15或18位"
P_FORMAT = "含非数字字符"
P_CHECKSUM = "校验码错误"
P_BIRTH_DATE = "出生日期无效"
P_PROVINCE = "省级代码无效"
N_CONVERTED_15 = "15位旧号码已转换为18位"
N_DISABILITY = "残疾人证号已取前18位身份证号"


def note_unknown_county(code: str) -> str:
    return f"县级代码{code}未知或已撤销（仍视为有效）"


# Whitespace removed anywhere in a number. An explicit class (not \s) so that Python's re and polars' Rust regex
# remove exactly the same characters.
WHITESPACE_CLASS = r"[ \t\n\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u3000\ufeff]"
SCIENTIFIC_RE = r"^[+-]?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+$"
_WHITESPACE = re.compile(WHITESPACE_CLASS)
_SCIENTIFIC = re.compile(SCIENTIFIC_RE)
_DIGITS = re.compile(r"^[0-9]+$")
_BODY18 = re.compile(r"^[0-9]{17}[0-9X]$")
_BODY20 = re.compile(r"^[0-9]{17}[0-9X][0-9]{2}$")
_FLOAT15 = re.compile(r"^([0-9]{15})\.0*$")


def compact(number: str) -> str:
    """Normalise the form: NFKC (full-width digits to ASCII), no whitespace, upper-case X, no leading ``'``.

    A 15-digit number written as a float by Excel (``150102880730303.0``) loses its ``.0``: 15 digits fit a double
    exactly, so nothing is lost.
    """
    number = unicodedata.normalize("NFKC", str(number))
    number = _WHITESPACE.sub("", number).upper()
    number = number.lstrip("'")
    m = _FLOAT15.match(number)
    return m.group(1) if m else number


def _check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (stdnum's calc_check_digit ignores the last
    character of what it is given, so it gets the 17 digits plus a placeholder)."""
    return calc_check_digit(first17 + "0")


def to_18(number15: str) -> str:
    """Convert a 15-digit old-format number to 18 digits: insert ``19`` before the year, append the check char."""
    number15 = compact(number15)
    if len(number15) != 15:
        raise InvalidLength(P_LENGTH)
    if not _DIGITS.match(number15):
        raise InvalidFormat(P_FORMAT)
    body = number15[:6] + "19" + number15[6:]
    return body + _check_char(body)


def _check18(number: str, data_date: date) -> None:
    """Check a compact 18-character number; stdnum's order: format, checksum, birth date, province."""
    if not _BODY18.match(number):
        raise InvalidFormat(P_FORMAT)
    if _check_char(number[:17]) != number[17]:
        raise InvalidChecksum(P_CHECKSUM)
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent(P_BIRTH_DATE) from None
    if not MIN_BIRTH_DATE <= born <= data_date:
        raise InvalidComponent(P_BIRTH_DATE)
    if number[:2] not in PROVINCE_CODES:
        raise InvalidComponent(P_PROVINCE)


def validate_with_notes(
    number: str, data_date: date | None = None, known_counties: frozenset[str] | None = None
) -> tuple[str, tuple[str, ...]]:
    """Return the normalised 18-character number and the notes to report, or raise a ValidationError."""
    if data_date is None:
        data_date = date.today()
    number = compact(number)
    notes: list[str] = []
    if _SCIENTIFIC.match(number):
        raise InvalidFormat(P_SCIENTIFIC)
    if len(number) == 15:
        if not _DIGITS.match(number):
            raise InvalidFormat(P_FORMAT)
        number = to_18(number)
        notes.append(N_CONVERTED_15)
    elif len(number) == 20:
        if not _BODY20.match(number):
            raise InvalidFormat(P_FORMAT)
        number = number[:18]
        notes.append(N_DISABILITY)
    elif len(number) != 18:
        raise InvalidLength(P_LENGTH)
    _check18(number, data_date)
    if known_counties is not None and number[:6] not in known_counties:
        notes.append(note_unknown_county(number[:6]))
    return number, tuple(notes)


def validate(number: str, data_date: date | None = None) -> str:
    """Return the normalised 18-character number or raise InvalidLength/InvalidFormat/InvalidChecksum/
    InvalidComponent with a Chinese message naming the fault. ``data_date`` defaults to today."""
    return validate_with_notes(number, data_date)[0]


def is_valid(number: str, data_date: date | None = None) -> bool:
    try:
        return bool(validate(number, data_date))
    except ValidationError:
        return False
