"""The sheets' working-day table (deliverables/workdays.py) counts as the ledger's calendar (workflow/calendar.py)
does, over the policy's holidays and make-up working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.deliverables.workdays import ordinals
from fangfanpin.workflow.calendar import add_working_days, is_working_day, working_days_between

pytestmark = pytest.mark.unit


def test_ordinals_differ_by_the_working_days_between_two_dates():
    wf = load_policy().workflow
    start, end = date(2026, 9, 1), date(2026, 11, 30)  # the National Day holidays and a make-up Saturday inside
    frame = ordinals(start, end, wf)
    ordinal = dict(zip(frame["day"].to_list(), frame["ordinal"].to_list()))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    assert [d for d in days if is_working_day(d, wf)] == [d for d in days if frame.filter(day=d)["working"][0]]
    for a in days[::3]:
        for b in days[::7]:
            if is_working_day(a, wf):  # a date that is not a working day counts as the next working day
                assert ordinal[b] - ordinal[a] == working_days_between(a, b, wf) + (not is_working_day(b, wf)), (a, b)
    # a limit of 5 working days from the eve of the holidays: 5 left on that day
    due = add_working_days(date(2026, 9, 30), 5, wf)
    assert ordinal[due] - ordinal[date(2026, 9, 30)] == 5 and due == date(2026, 10, 13)
    assert ordinal[date(2026, 10, 3)] == ordinal[date(2026, 10, 8)]  # a holiday counts as the next working day
