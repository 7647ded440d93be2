"""Personal data stays private on disk: the warehouse, outbox, models and Dagster storage are owner-only.

    restrict_umask()        # every file and folder this process creates afterwards is owner-only
    private_dir(path)       # mkdir -p with 0o700 for every folder it creates
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE, FILE_MODE = 0o700, 0o600


def restrict_umask() -> None:
    """Owner-only permissions for everything this process creates (warehouse, outbox, models, Dagster storage)."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``mkdir -p`` with 0o700 for every folder it creates."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask; make it exact
    return path
