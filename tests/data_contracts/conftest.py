"""What the Great Expectations tests share: the structure suites of the feeds their frames are built for."""

from __future__ import annotations

import pytest
from gx_helpers import FEEDS

from fangfanpin.data_contracts import load_contract
from fangfanpin.data_contracts.gx_suites import structure_suite


@pytest.fixture(scope="module")
def suites():
    return {feed: structure_suite(load_contract(feed)) for feed in FEEDS}
