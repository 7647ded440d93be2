"""Run a function in a fresh process and wait for it.

Linux keeps a process's peak RSS across fork and exec, so a child started after this process has grown reports at
least this process's peak. Benchmarks therefore generate their data in a child of their own, and the parent stays
small: the peaks their measuring children report are then their own.
"""

from __future__ import annotations

import multiprocessing


def run_isolated(target, *args, **kwargs) -> None:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, kwargs=kwargs)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{getattr(target, '__name__', target)} failed in its own process (exit {process.exitcode})")
