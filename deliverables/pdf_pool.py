"""Rendering many PDFs on every core: reportlab is pure Python, so one process renders one page at a time.

    with PdfPool(workers=2) as pool:
        for pack, pdf in zip(packs, pool.render(task_pack_pdf_of, packs, cards)):
            write(pack, pdf)

Below ``min_cards`` cards in a batch the PDFs are rendered here, one after another: starting a worker (a fresh
interpreter importing the deliverables and the font) costs about as much as a thousand cards. Above it, the pool
(started once, on the first large batch) renders them in worker processes and hands the bytes back in order;
``render`` returns at once and the workers start on the batch while the caller goes on with other work. The
workers only render: the warehouse stays with its one writer, and a PDF's bytes are the same in any process
(reportlab's invariant mode).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")

MIN_CARDS = 1500  # cards in one batch (a county's village task packs) before the pool pays for its start
CHUNKS_PER_WORKER = 8  # items handed over at a time: few round trips, and the workers finish close together


class PdfPool:
    """PDFs rendered in order, in ``workers`` processes once a batch has ``min_cards`` cards or more."""

    def __init__(self, workers: int, min_cards: int = MIN_CARDS) -> None:
        self.workers, self.min_cards = max(1, workers), min_cards
        self._pool: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether a batch went to worker processes."""
        return self._pool is not None

    def __enter__(self) -> PdfPool:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def render(self, render: Callable[[T], bytes], items: Sequence[T], cards: int) -> Iterator[bytes]:
        """``render(item)`` for every item, in order. ``render`` must be a module-level function (or a
        functools.partial of one): the workers receive it pickled."""
        if self.workers == 1 or len(items) < 2 or cards < self.min_cards:
            return map(render, items)
        if self._pool is None:
            # spawn, not fork: the parent holds DuckDB's and Dagster's threads, whose locks a forked child could inherit
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        chunk = max(1, len(items) // (self.workers * CHUNKS_PER_WORKER))
        return self._pool.map(render, items, chunksize=chunk)
