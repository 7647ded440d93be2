"""Memory housekeeping (core.memory): the C heap's free pages leave the process at the end of a step; a file is built
without the cyclic collector, and its cycles are collected when it is done."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from fangfanpin.core.memory import collector_paused, release_freed_memory

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


class _Node:
    """A reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_file_built_without_the_collector_leaves_no_cycle_behind():
    """xlsxwriter and reportlab may make reference cycles; with the collector paused they would stay until some later
    collection, after the next file or step had grown the process."""
    with collector_paused():
        assert not gc.isenabled()
        made = weakref.ref(_Node())
        assert made() is not None  # nothing collected while the file is built
    assert gc.isenabled()
    assert made() is None


def test_a_paused_collector_stays_as_the_caller_had_it():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
