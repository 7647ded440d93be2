"""Giving freed memory back (core.memory): the C heap's free pages leave the process at the end of a step."""

from __future__ import annotations

import sys

import pytest

from fangfanpin.core.memory import release_freed_memory

pytestmark = pytest.mark.unit


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_pages_inside_the_heap_go_back_to_the_system():
    """100 MB of 4 KB blocks freed below one kept block: glibc cannot trim them from the heap's top itself."""
    blocks = [bytearray(4000) for _ in range(25_000)]
    kept = bytearray(4000)  # allocated last: the heap's top stays in use
    del blocks
    before = _rss_mb()
    assert release_freed_memory()
    assert before - _rss_mb() > 50
    del kept
