"""Memory housekeeping: giving a step's freed memory back to the system before the next step of the run starts,
and building a big file without Python's cyclic collector walking it.

    release_freed_memory()   # at the end of a step: glibc's free pages go back to the system (no-op elsewhere)
    with collector_paused(): # while one workbook or PDF is built
        payload = render(item)

glibc keeps memory that Python, pandas and DuckDB's result conversion free in its heaps, trimming only the top of
each heap; a run's steps share one process, so one step's free pages would be counted in the peak of the next.
``malloc_trim(0)`` returns every free page of every heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None  # glibc only (not musl, not macOS)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return the C heap's free pages to the system; False where the C library cannot (then nothing happens).

    >>> release_freed_memory() in (True, False)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off inside, then the young generation collected (the cycles made inside, if any).

    A workbook's cells and a PDF's objects are millions of small containers that live until the file is written:
    the collector would walk them again and again while they grow, for no garbage. Objects without cycles are freed
    inside as always.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)
