"""Run a function in a fresh process and wait for it.

Linux keeps a process's peak RSS across fork and exec, so a child started after this process has grown reports at
least this process's peak. Benchmarks therefore generate their data in a child of their own, and the parent stays
small: the peaks their measuring children report are then their own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
from pathlib import Path


def run_isolated(target, *args, **kwargs) -> None:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, kwargs=kwargs)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{getattr(target, '__name__', target)} failed in its own process (exit {process.exitcode})")


def pin_two_cores() -> None:
    """Keep this process (and what it starts) on two processors, the targets' machine, on a bigger one."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])


def with_code(pkgdir: str, **settings: str) -> dict[str, str]:
    """This process's environment and ``settings``, for a child that imports the ``fangfanpin`` of ``pkgdir`` (a folder
    holding fangfanpin/, from :func:`codes_of`; "" for this checkout): how the benchmarks put two codes side by side."""
    return dict(os.environ, **settings, **({"PYTHONPATH": pkgdir} if pkgdir else {}))


def run_with_code(pkgdir: str, argv: list[str], preexec_fn=None) -> str:
    """Run ``argv`` with the ``fangfanpin`` of ``pkgdir`` (:func:`with_code`) and return what it printed."""
    env = with_code(pkgdir)
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=True, preexec_fn=preexec_fn).stdout


def code_arguments(ap: argparse.ArgumentParser, rounds: int = 2) -> None:
    """The options of a side-by-side benchmark: ``--code LABEL=PKGDIR`` (repeatable) and ``--rounds``."""
    ap.add_argument("--code", action="append", default=[], help="LABEL=PKGDIR (a folder holding fangfanpin/)")
    ap.add_argument("--rounds", type=int, default=rounds, help=f"A B A B rounds (default {rounds})")


def codes_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(label, absolute package folder) of each ``--code``; without one, this checkout alone. A folder without
    ``fangfanpin/__init__.py`` is refused: Python would skip it on PYTHONPATH and import this checkout instead, and
    the run would look like the other code's."""
    codes = []
    for option in args.code:
        label, _, folder = option.partition("=")
        pkgdir = Path(folder).resolve()
        if not label or not (pkgdir / "fangfanpin" / "__init__.py").is_file():
            raise SystemExit(f"--code {option}: expected LABEL=PKGDIR, PKGDIR a folder holding fangfanpin/__init__.py")
        codes.append((label, str(pkgdir)))
    return codes or [("this", "")]
