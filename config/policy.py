"""Load the policy file (policy.md): the packaged demo county's, or the one ``FFP_POLICY`` points at."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from config import CONFIG_DIR

DEFAULT_POLICY = CONFIG_DIR / "policy.yaml"


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense; the message names the key."""


def policy_path() -> Path:
    return Path(os.environ.get("FFP_POLICY") or DEFAULT_POLICY)


@cache
def _load(path: Path) -> dict:
    if not path.exists():
        raise PolicyError(f"policy file {path} does not exist (FFP_POLICY)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} is not a mapping")
    ingest = data.get("ingest") or {}
    ratio = ingest.get("snapshot_shrink_ratio")
    if not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise PolicyError(f"{path}: ingest.snapshot_shrink_ratio must be a number in (0, 1], got {ratio!r}")
    low_high = ingest.get("drift_row_ratio")
    if not (isinstance(low_high, list) and len(low_high) == 2 and 0 < low_high[0] < 1 < low_high[1]):
        raise PolicyError(f"{path}: ingest.drift_row_ratio must be [low < 1, high > 1], got {low_high!r}")
    tolerance = ingest.get("drift_null_rate_tolerance")
    if not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise PolicyError(f"{path}: ingest.drift_null_rate_tolerance must be in [0, 1), got {tolerance!r}")
    return data


def load_policy(path: Path | None = None) -> dict:
    return _load(Path(path) if path else policy_path())
