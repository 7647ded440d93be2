"""Rendering the outbox's big files on every core: reportlab and xlsxwriter are pure Python, so one process writes
one page or one cell at a time.

    with RenderPool(workers=2) as pool:
        book = pool.submit(render_workbook, sheets, worth_a_worker=rows >= MIN_ROWS)   # starts now
        pdfs = pool.render(task_pack_pdf_of, packs, worth_a_worker=cards >= MIN_CARDS)  # starts now
        write(book())                      # waits for it
        for pack, pdf in zip(packs, pdfs):
            write(pack, pdf)

Work too small to pay for a worker (starting one, a fresh interpreter importing the deliverables and the font, costs
about as much as a thousand task cards) is rendered here, when its result is asked for, until the pool has started.
Larger work, and once it has started all work, goes to the pool (started once, on the first large batch) in the
order it was handed in, and its results come back in that order. ``submit`` and ``render`` return at once, so the
workers render while the caller goes on with other work.
The workers only render: the warehouse stays with its one writer, and a file's bytes are the same in any process
(reportlab's invariant mode, xlsxwriter's fixed creation date). Every file, here or in a worker, is built with the
cyclic collector paused (core/memory.py).

A command that runs several dates in one process (``run --pending``, the demo) keeps one set of workers for all of
them (``workers_kept``): started once, they take every date's work, however small, as an already started pool does.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

from fangfanpin.core.memory import collector_paused

T = TypeVar("T")
R = TypeVar("R")

MIN_CARDS = 1500  # a county's task-pack cards worth a worker's start
MIN_ROWS = 20_000  # a workbook's rows worth a worker's start (a card costs about as much as 15 rows)
CHUNKS_PER_WORKER = 8  # items handed over at a time: few round trips, and the workers finish close together

_kept: ProcessPoolExecutor | None = None  # the workers of ``workers_kept``, while it lasts


@contextmanager
def workers_kept(workers: int) -> Iterator[None]:
    """Within this block every ``RenderPool`` of this process renders in one set of ``workers`` processes, started
    here and stopped at the end; with fewer than two workers nothing changes."""
    global _kept
    if workers < 2 or _kept is not None:
        yield
        return
    _kept = _spawn_pool(workers)
    try:
        yield
    finally:
        pool, _kept = _kept, None
        pool.shutdown(cancel_futures=True)


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: the parent holds DuckDB's and Dagster's threads, whose locks a forked child could inherit
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


class RenderPool:
    """Files rendered in ``workers`` processes when the work is worth it, else here; results in the order asked."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = _kept if self.workers > 1 else None

    @property
    def started(self) -> bool:
        """Whether some work went to worker processes."""
        return self._pool is not None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None and self._pool is not _kept:
            self._pool.shutdown(cancel_futures=True)
        self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _spawn_pool(self.workers)
        return self._pool

    def render(self, render: Callable[[T], R], items: Sequence[T], *, worth_a_worker: bool) -> Iterator[R]:
        """``render(item)`` for every item, in order. ``render`` must be a module-level function (or a
        functools.partial of one): the workers receive it pickled."""
        uncollected = partial(_uncollected, render)
        if self.workers == 1 or len(items) < 2 or not (worth_a_worker or self.started):
            return map(uncollected, items)
        chunk = max(1, len(items) // (self.workers * CHUNKS_PER_WORKER))
        return self._executor().map(uncollected, items, chunksize=chunk)

    def submit(self, render: Callable[[T], R], item: T, *, worth_a_worker: bool) -> Callable[[], R]:
        """``render(item)``, to be asked for later: the returned function gives the result (waiting for it)."""
        if self.workers == 1 or not (worth_a_worker or self.started):
            return lambda: _uncollected(render, item)
        return self._executor().submit(_uncollected, render, item).result


def _uncollected(render: Callable[[T], R], item: T) -> R:
    """``render(item)`` with the cyclic collector paused."""
    with collector_paused():
        return render(item)
