"""Every data-quality kind that crosscheck/sql/quality.sql writes has its Chinese label, and only those do."""

from __future__ import annotations

import re

import pytest

from fangfanpin.crosscheck import SQL_DIR
from fangfanpin.crosscheck.kinds import QUALITY_KINDS_ZH
from fangfanpin.data_contracts import FEED_NAMES

pytestmark = pytest.mark.unit


def test_every_kind_written_has_a_chinese_label():
    sql = (SQL_DIR / "quality.sql").read_text(encoding="utf-8")
    literals = set(re.findall(r"'([a-z]+(?:_[a-z]+)+)'", sql))  # snake_case string constants: feeds and kinds
    assert literals - set(FEED_NAMES) == set(QUALITY_KINDS_ZH)
    assert all(re.fullmatch(r"[\u4e00-\u9fff+（）]+", label) for label in QUALITY_KINDS_ZH.values())
