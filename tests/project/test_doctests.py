"""Every example written in a docstring runs: a module whose docstrings hold ``>>>`` examples has them checked here,
so that an example cannot go stale unseen."""

from __future__ import annotations

import doctest
import importlib

import pytest
from paths import CODE_PACKAGES, REPO

pytestmark = pytest.mark.unit

WITH_EXAMPLES = sorted(
    path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    for package in CODE_PACKAGES
    for path in (REPO / package).rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


def test_modules_with_examples_are_found():
    assert "deliverables.xlsx_table" in WITH_EXAMPLES and "core.privacy" in WITH_EXAMPLES


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_examples_in_docstrings(module):
    result = doctest.testmod(importlib.import_module(f"fangfanpin.{module}"), optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed, module
