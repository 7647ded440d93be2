"""The case ledger's rules on plain data: working days, the state table, free-text reasons → risk types."""

from __future__ import annotations

from datetime import date

import pytest

from fangfanpin.config.policy import load_policy
from fangfanpin.workflow import states as S
from fangfanpin.workflow.calendar import add_working_days, is_working_day, working_days_between
from fangfanpin.workflow.decide import map_reason

pytestmark = pytest.mark.unit

WF = load_policy().workflow


def test_working_days_skip_weekends_and_holidays_and_count_makeup_days():
    assert add_working_days(date(2026, 10, 30), 5, WF) == date(2026, 11, 6)  # Fri → next Fri
    assert add_working_days(date(2026, 9, 30), 1, WF) == date(2026, 10, 8)  # 国庆 holidays 10-01 … 10-07
    assert add_working_days(date(2026, 10, 9), 1, WF) == date(2026, 10, 10)  # Saturday 10-10 is a 调休 working day
    assert add_working_days(date(2026, 9, 30), 5, WF) == date(2026, 10, 13)
    assert not is_working_day(date(2026, 10, 5), WF) and is_working_day(date(2026, 10, 10), WF)
    assert working_days_between(date(2026, 10, 30), date(2026, 11, 6), WF) == 5
    assert add_working_days(date(2026, 11, 2), 0, WF) == date(2026, 11, 2)


def test_state_table_paths():
    ok, _ = S.legal_path(
        [
            (S.START, S.待排查, "立案"),
            (S.待排查, S.待比对, "走访建议纳入"),
            (S.待比对, S.待公示, "比对通过"),
            (S.待公示, S.公示中, "发布公示"),
            (S.公示中, S.待确认, "公示通过"),
            (S.待确认, S.已纳入, "确认纳入"),
            (S.已纳入, S.消除待排查, "风险消除候选"),
            (S.消除待排查, S.消除待公示, "走访建议风险消除"),
            (S.消除待公示, S.消除公示中, "发布公示"),
            (S.消除公示中, S.消除待确认, "公示通过"),
            (S.消除待确认, S.风险消除, "确认风险消除"),
        ]
    )
    assert ok
    assert not S.legal_path([(S.START, S.已纳入, "确认纳入")])[0]  # no inclusion without the steps
    assert not S.legal_path([(S.START, S.待排查, "立案"), (S.待排查, S.已纳入, "确认纳入")])[0]
    assert not S.is_legal(S.不予纳入, S.不予纳入, "新证据")  # closed cases take nothing
    assert S.is_legal(S.公示中, S.公示中, "新证据")


def test_free_text_reasons_map_to_risk_types_and_keep_unmapped_words():
    policy = load_policy()
    types, unmapped = map_reason(policy, "因病、房屋漏雨 家里揭不开锅")
    assert types == ["因病", "住房出现安全问题", "其他"] and unmapped == ["家里揭不开锅"]
    assert map_reason(policy, "车祸受伤")[0] == ["因意外事故"]
    assert map_reason(policy, "因自然灾害")[0] == ["因自然灾害"]
