"""Session fixtures built once for all of a session's xdist workers (pytest-xdist's own recipe): the first worker to
ask builds the folder under a file lock, the others wait for it and read the same folder. Without xdist the folder is
in the session's own temporary root. What a shared folder holds is read-only for tests: copy it before changing it.

    folder = built_once(tmp_path_factory, "small", lambda folder: generate(folder / "landing", ...))
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """The folder ``name``, made by ``build(folder)`` once in the whole session; a build that failed is tried again
    by the next worker that asks (and fails it again, with its own error)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's root, above every worker's own
    folder, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with FileLock(root / f"shared-{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
