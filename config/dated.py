"""Policy values that change on a date: the policy file's ``changes`` list (docs/policy.md, 'Values that change on a
date').

    changes:
      - from: 2026-07-01
        rules: {MED-BURDEN: {params: {share_other: 0.8}}}

Each entry names a date and, in the shape of the rest of the file, the values that hold from that date on. A run
uses the file's values with every change dated on or before its delivery date applied in date order. A change may
only name keys the file already has, except that it may add a rule (a complete one), switch a rule on or off
(``enabled``) and add a parameter's Chinese name. Sections that do not change by date are refused.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from fangfanpin.config.values import PolicyError, day, mapping

# Sections a change may not name, and why.
FIXED = {
    "ingest": "reading files does not depend on a delivery date",
    "monitoring_line": "it is set by calendar year already",
    "rural_income_prior_year": "it is set by calendar year already",
    "risk_types": "the standard risk types are the same on every date",
    "model": "the model is trained once for all dates",
    "changes": "changes do not nest",
}


@dataclass(frozen=True)
class Change:
    start: date
    values: tuple[tuple[str, Any], ...]  # dotted key → the value it takes from ``start``, as the file writes it


def _merge(base: Any, change: Any, key: str, where: str) -> Any:
    if not isinstance(change, dict):
        return copy.deepcopy(change)
    if not isinstance(base, dict):
        raise PolicyError(f"{where}: {key} is not a section of mappings in the policy file")
    out = dict(base)
    parts = key.split(".")
    for name, value in change.items():
        path = f"{key}.{name}"
        new_rule = parts == ["rules"]
        switch = parts[0] == "rules" and len(parts) == 2 and name == "enabled"
        if name not in base and not (new_rule or switch or parts == ["parameter_names"]):
            raise PolicyError(f"{where}: {path} is not in the policy file (a change names keys the file has)")
        out[name] = copy.deepcopy(value) if name not in base else _merge(base[name], value, path, where)
    return out


def _flatten(value: Any, key: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [kv for name, v in value.items() for kv in _flatten(v, f"{key}.{name}" if key else str(name))]
    return [(key, value)]


def parse_changes(raw: Any) -> list[tuple[Change, dict]]:
    """The file's changes in date order (a stable sort: same-day changes apply in file order): (change, its values)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyError(f"changes: must be a list of {{from: date, …}}, got {raw!r}")
    out = []
    for i, entry in enumerate(raw):
        where = f"changes[{i}]"
        entry = mapping(where, entry)
        if "from" not in entry:
            raise PolicyError(f"{where}.from: missing (the date the values hold from, YYYY-MM-DD)")
        start = day(f"{where}.from", entry["from"])
        values = {k: v for k, v in entry.items() if k != "from"}
        if not values:
            raise PolicyError(f"{where}: names no value to change")
        for section in values:
            if section in FIXED:
                raise PolicyError(f"{where}.{section}: cannot change by date ({FIXED[section]})")
        out.append((Change(start, tuple(_flatten(values, ""))), values))
    return sorted(out, key=lambda c: c[0].start)


def apply_changes(data: dict, changes: list[tuple[Change, dict]], upto: int) -> dict:
    """The file's values with the first ``upto`` changes applied (``changes`` removed)."""
    merged = {k: v for k, v in data.items() if k != "changes"}
    for change, values in changes[:upto]:
        where = f"changes (from {change.start.isoformat()})"
        for section, value in values.items():
            if section not in merged:
                raise PolicyError(f"{where}: {section} is not a section of the policy file")
            merged[section] = _merge(merged[section], value, section, where)
    return merged
