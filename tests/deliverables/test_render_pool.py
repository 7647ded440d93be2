"""The render pool's workers: kept for a command's several dates, own ones for big work, none left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fangfanpin.deliverables import render_pool
from fangfanpin.deliverables.render_pool import RenderPool, workers_kept

pytestmark = pytest.mark.unit


def process_of(_item: int) -> int:
    return os.getpid()


def _rendered_by(pool: RenderPool, *, worth_a_worker: bool = False) -> set[int]:
    pids = set(pool.render(process_of, [1, 2, 3, 4], worth_a_worker=worth_a_worker))
    return pids | {pool.submit(process_of, 5, worth_a_worker=worth_a_worker)()}


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().count("State:\tZ") > 0  # a zombie has ended
    except FileNotFoundError:
        return True


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


def test_big_work_gets_workers_of_its_own_that_stop_with_its_pool():
    with workers_kept(2):
        kept = set(render_pool._kept._processes)
        with RenderPool(2) as big_county:
            big = _rendered_by(big_county, worth_a_worker=True)
            small_after_it = _rendered_by(big_county)
            own = set(big_county._pool._processes)
        # once started, its own take the rest too (either of them: which one takes an item is the pool's choice)
        assert own.isdisjoint(kept) and big | small_after_it <= own
        deadline = time.monotonic() + 30
        while not all(map(_gone, own)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(map(_gone, own))  # what they rendered does not stay in memory through the next dates


def test_a_kept_worker_that_died_is_replaced():
    with workers_kept(2):
        with RenderPool(2) as first_date:
            victim = next(iter(_rendered_by(first_date)))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not getattr(render_pool._kept, "_broken", False) and time.monotonic() < deadline:
            time.sleep(0.1)
        with RenderPool(2) as next_date:
            assert victim not in _rendered_by(next_date)


def test_workers_end_when_the_process_that_started_them_is_killed():
    code = (
        "import os, sys, time\n"
        "from fangfanpin.deliverables.render_pool import _spawn_pool\n"
        "pool = _spawn_pool(1)\n"
        "print(pool.submit(os.getpid).result(), flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(worker)
    finally:
        parent.kill()


def test_one_worker_keeps_nothing():
    with workers_kept(1), RenderPool(1) as pool:
        assert _rendered_by(pool) == {os.getpid()}
        assert render_pool._kept is None
