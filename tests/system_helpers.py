"""System packages the set-up installs (Makefile: Debian chromium, fonts-wqy-microhei)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def require_installed(path: Path, reason: str) -> None:
    """Skip when ``path`` is missing on a developer's machine; fail under CI (`.ci/run` sets CI=1), where
    `make test` installs it, so a missing file there is a broken set-up rather than something to skip."""
    if Path(path).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
