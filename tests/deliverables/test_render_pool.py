"""The render pool's workers kept for a command's several dates: one set of processes takes every date's work."""

from __future__ import annotations

import os

import pytest

from fangfanpin.deliverables import render_pool
from fangfanpin.deliverables.render_pool import RenderPool, workers_kept

pytestmark = pytest.mark.unit


def process_of(_item: int) -> int:
    return os.getpid()


def _rendered_by(pool: RenderPool) -> set[int]:
    pids = set(pool.render(process_of, [1, 2, 3, 4], worth_a_worker=False))
    return pids | {pool.submit(process_of, 5, worth_a_worker=False)()}


def test_kept_workers_take_small_work_of_every_date_and_stop_at_the_end():
    with workers_kept(2):
        with RenderPool(2) as first_date:
            first = _rendered_by(first_date)
        with RenderPool(2) as second_date:
            second = _rendered_by(second_date)
            assert second_date.started
    assert os.getpid() not in first | second  # too small for a worker of its own, yet rendered by the kept ones
    assert len(first | second) <= 2  # the same processes for both dates
    assert render_pool._kept is None
    with RenderPool(2) as after:
        assert _rendered_by(after) == {os.getpid()} and not after.started


def test_one_worker_keeps_nothing():
    with workers_kept(1), RenderPool(1) as pool:
        assert _rendered_by(pool) == {os.getpid()}
        assert render_pool._kept is None
