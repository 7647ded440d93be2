"""The run tag naming a date's delivery problems: feeds and statuses only."""

import doctest

import pytest

from fangfanpin.assets import deliverables

pytestmark = pytest.mark.unit


def test_doctests():
    assert doctest.testmod(deliverables).failed == 0
