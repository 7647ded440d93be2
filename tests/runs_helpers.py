"""The ``fangfanpin`` command in subprocesses, on worlds copied from tests/pipeline/conftest.py's processed first
date: settings of one folder, a run, a copy of the world with more delivery dates, the dates a run printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

FFP = str(Path(sys.executable).with_name("fangfanpin"))
COUNTIES = ["150625", "150626"]


def run_env(root: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFP_", "DAGSTER_"))}
    return (
        env
        | {
            "FFP_LANDING_DIR": str(root / "landing"),
            "FFP_OUTBOX_DIR": str(root / "outbox"),
            "FFP_MODEL_DIR": str(root / "models"),
            "FFP_WAREHOUSE": str(root / "wh" / "warehouse.duckdb"),
            "DAGSTER_HOME": str(root / "dagster"),
        }
        | extra
    )


def ffp(root: Path, *args: str, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FFP, *args], env=run_env(root, **extra), cwd=root, capture_output=True, text=True, timeout=900
    )


def world(processed: Path, dest: Path, deliveries, *more: date) -> Path:
    """A copy of the processed world at ``dest``, with the landing folders of ``more`` dates added."""
    for sub in ("landing", "wh", "outbox", "dagster"):
        shutil.copytree(processed / sub, dest / sub)
    for day in more:
        shutil.copytree(deliveries[0] / day.isoformat(), dest / "landing" / day.isoformat())
    return dest


def ran(output: str) -> list[str]:
    """The dates whose run finished, in the order the command printed them."""
    return re.findall(r"^(\d{4}-\d{2}-\d{2}): run \S+ finished", output, re.MULTILINE)
