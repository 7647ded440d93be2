"""Working days (docs/policy.md, "The workflow"): Monday–Friday, minus the policy file's holidays, plus its make-up working days (调休).

A limit of N working days ends on the N-th working day after the day the state began:
``add_working_days(Fri 2026-10-30, 5)`` counts Mon 11-02 … Fri 11-06 and returns 2026-11-06.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from fangfanpin.config.policy import Workflow


def is_working_day(day: date, wf: Workflow) -> bool:
    if day in wf.makeup_working_days:
        return True
    if day in wf.holidays:
        return False
    return day.weekday() < 5


@lru_cache(maxsize=4096)  # the cases of one day share a few (start, n) among hundreds of thousands of calls
def add_working_days(start: date, n: int, wf: Workflow) -> date:
    """The n-th working day after ``start`` (``start`` itself never counts)."""
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if is_working_day(day, wf):
            left -= 1
    return day


def working_days_between(start: date, end: date, wf: Workflow) -> int:
    """Working days in (start, end]; negative when end < start."""
    if end < start:
        return -working_days_between(end, start, wf)
    return sum(is_working_day(start + timedelta(days=i), wf) for i in range(1, (end - start).days + 1))
