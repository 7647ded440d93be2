"""Checks for single values of the policy file: each returns the cleaned value or raises PolicyError naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense; the message names the key."""


def fail(key: str, wanted: str, value: Any) -> PolicyError:
    return PolicyError(f"{key}: must be {wanted}, got {value!r}")


def number(key: str, value: Any, *, positive: bool = True, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(key, "a number > 0" if positive and not allow_zero else "a number ≥ 0", value)
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        raise fail(key, "a number > 0" if not allow_zero else "a number ≥ 0", value)
    return float(value)


def fraction(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise fail(key, "a number between 0 and 1", value)
    return float(value)


def whole(key: str, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(key, f"a whole number ≥ {minimum}", value)
    return value


def mapping(key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise fail(key, "a mapping", value)
    return value


def text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(key, "a non-empty text", value)
    return value


def day(key: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise fail(key, "a date YYYY-MM-DD", value) from None


def by_year(key: str, value: Any) -> Mapping[int, float]:
    out = {}
    for year, amount in mapping(key, value).items():
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise fail(f"{key}.{year}", "keyed by a year such as 2026", year)
        out[year] = number(f"{key}.{year}", amount)
    if not out:
        raise fail(key, "at least one year", value)
    return MappingProxyType(out)


def risk_type(key: str, value: Any, risk_types: tuple[str, ...]) -> str:
    if value not in risk_types:
        raise fail(key, "one of " + "/".join(risk_types), value)
    return value
