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
import os
import threading
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
    """Within this block every ``RenderPool`` of this process hands its small work to one set of ``workers``
    processes, started here (before any run, so they write to the command's terminal, not to a run's captured log)
    and stopped at the end; with fewer than two workers nothing changes. Work big enough for workers of its own still
    gets them, stopped when its pool closes: a worker keeps the memory of what it rendered."""
    global _kept
    if workers < 2 or _kept is not None:
        yield
        return
    _kept = _spawn_pool(workers)
    try:
        for started in [_kept.submit(int) for _ in range(workers)]:
            started.result()
        yield
    finally:
        pool, _kept = _kept, None
        pool.shutdown(cancel_futures=True)


def _kept_pool() -> ProcessPoolExecutor | None:
    """The kept workers, started again if one of them died (a pool with a dead worker refuses all work)."""
    global _kept
    if _kept is not None and getattr(_kept, "_broken", False):
        workers = _kept._max_workers
        _kept.shutdown(wait=False, cancel_futures=True)
        _kept = _spawn_pool(workers)
    return _kept


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: the parent holds DuckDB's and Dagster's threads, whose locks a forked child could inherit
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent)


def _exit_with_parent() -> None:
    """A worker ends when the process that started it does (killed, say), instead of waiting for work for ever."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()


class RenderPool:
    """Files rendered in ``workers`` processes when the work is worth it, else here; results in the order asked."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None  # workers of its own, for work worth them
        self._used_kept = False

    @property
    def started(self) -> bool:
        """Whether some work went to worker processes."""
        return self._pool is not None or self._used_kept

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def _executor(self, worth_a_worker: bool) -> ProcessPoolExecutor | None:
        """Where work goes: this pool's own workers once worth starting; else the kept ones; else None (here)."""
        if self.workers == 1:
            return None
        if self._pool is None and worth_a_worker:
            self._pool = _spawn_pool(self.workers)
        if self._pool is not None:
            return self._pool
        kept = _kept_pool()
        self._used_kept = self._used_kept or kept is not None
        return kept

    def render(self, render: Callable[[T], R], items: Sequence[T], *, worth_a_worker: bool) -> Iterator[R]:
        """``render(item)`` for every item, in order. ``render`` must be a module-level function (or a
        functools.partial of one): the workers receive it pickled."""
        uncollected = partial(_uncollected, render)
        pool = self._executor(worth_a_worker) if len(items) > 1 else None
        if pool is None:
            return map(uncollected, items)
        chunk = max(1, len(items) // (self.workers * CHUNKS_PER_WORKER))
        return pool.map(uncollected, items, chunksize=chunk)

    def submit(self, render: Callable[[T], R], item: T, *, worth_a_worker: bool) -> Callable[[], R]:
        """``render(item)``, to be asked for later: the returned function gives the result (waiting for it)."""
        pool = self._executor(worth_a_worker)
        if pool is None:
            return lambda: _uncollected(render, item)
        return pool.submit(_uncollected, render, item).result


def _uncollected(render: Callable[[T], R], item: T) -> R:
    """``render(item)`` with the cyclic collector paused."""
    with collector_paused():
        return render(item)
