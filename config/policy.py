"""Load the policy file (docs/policy.md): the packaged demo county's, or the one ``FFP_POLICY`` points at.

    policy = load_policy()                       # the file as written (values before any dated change)
    today = policy.as_of(date(2026, 11, 20))     # the values in force on a delivery date
    today.monitoring_line(2026)                  # 9000.0
    today.rule("MED-BURDEN").value("share_other")  # 1.0
    policy["ingest"]["snapshot_shrink_ratio"]    # raw section access, as the ingest assets use it

Everything is validated on load, every dated version too; a bad value raises ``PolicyError`` naming the key and the
value, e.g. ``rules.MED-BURDEN.params.share_other: must be a number > 0, got 'abc'``. No threshold lives in code:
the screening rules are the registry of config/rules.py, read from the file's ``rules`` section.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from fangfanpin.config import CONFIG_DIR
from fangfanpin.config.dated import Change, apply_changes, parse_changes
from fangfanpin.config.model_settings import ModelSettings, model_settings
from fangfanpin.config.rules import SEVERITIES, Rule, parse_rules
from fangfanpin.config.values import PolicyError, by_year, fail, fraction, mapping, number, risk_type, text, whole
from fangfanpin.config.values import day as as_date

__all__ = ["PolicyError", "Policy", "Rule", "SEVERITIES", "load_policy", "parse_policy", "DEFAULT_POLICY"]

DEFAULT_POLICY = CONFIG_DIR / "policy.yaml"
_EXCLUSION_THRESHOLDS = {
    "EXC-VEHICLE": {"min_count": lambda k, v: whole(k, v, minimum=1)},
    "EXC-HOUSE": {"min_count": lambda k, v: whole(k, v, minimum=1)},
    "EXC-BUSINESS": {"min_count": lambda k, v: whole(k, v, minimum=1)},
    "EXC-PUBLIC": {},
    "EXC-ASSETS": {"line_multiple": number},
}


@dataclass(frozen=True)
class KeywordRow:
    keywords: tuple[str, ...]
    risk_type: str


@dataclass(frozen=True)
class FileLimits:
    """What one delivered file may cost to read (``ingest.file_limits``); a file over a limit is refused whole."""

    max_file_mb: float = 8192
    max_unzipped_mb: float = 256
    max_zip_ratio: float = 100
    max_cells: int = 50_000_000
    max_columns: int = 1000
    max_seconds: float = 600


@dataclass(frozen=True)
class RiskLevels:
    high_probability: float
    medium_probability: float
    model_warning_min_lift: float  # a model warning's probability is at least this many times the base rate
    model_capacity_per_village_per_week: int


@dataclass(frozen=True)
class Workflow:
    pending_visit_working_days: int
    review_anomaly_working_days: int
    publication_min_days: int
    total_working_days: int
    declined_cooldown_days: int
    elimination_retry_days: int
    green_channel_risk_types: tuple[str, ...]
    holidays: frozenset[date]
    makeup_working_days: frozenset[date]


@dataclass(frozen=True)
class Policy:
    path: Path
    monitoring_lines: Mapping[int, float]
    rural_income_prior_years: Mapping[int, float]
    risk_types: tuple[str, ...]
    risk_keywords: tuple[KeywordRow, ...]
    rules: Mapping[str, Rule]
    exclusion: Mapping[str, Mapping[str, Any]]
    student_max_age: Mapping[str, int]
    risk_levels: RiskLevels
    workflow: Workflow
    elimination_min_monitored_months: int
    elimination_no_rule_days: int
    model_horizon_days: int
    model: ModelSettings
    file_limits: FileLimits
    parameter_names: Mapping[str, str]  # a rule or exclusion parameter → its Chinese name
    raw: Mapping[str, Any] = field(repr=False)
    in_force_from: date | None = None  # the date of the newest change applied (None: the file as written)
    changes: tuple[Change, ...] = ()  # every dated change of the file, in date order
    timeline: _Timeline | None = field(default=None, repr=False, compare=False)

    def as_of(self, day: date) -> Policy:
        """The values in force on ``day``: the file's, with every change dated on or before ``day`` applied."""
        return self.timeline.at(day) if self.timeline else self

    def upcoming(self, day: date) -> tuple[Change, ...]:
        """The changes dated after ``day``."""
        return tuple(c for c in self.changes if c.start > day)

    def enabled_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules.values() if r.enabled)

    def parameter_name(self, name: str) -> str:
        return self.parameter_names.get(name, name)

    def __getitem__(self, section: str) -> Any:
        """Raw section access (``policy["ingest"]``), kept for the ingest assets."""
        return self.raw[section]

    def monitoring_line(self, year: int) -> float:
        if year not in self.monitoring_lines:
            raise PolicyError(
                f"monitoring_line.{year}: no monitoring line for {year} in {self.path} "
                f"(years present: {sorted(self.monitoring_lines)})"
            )
        return self.monitoring_lines[year]

    def rural_income_prior_year(self, delivery_year: int) -> float:
        """The rural per-capita disposable income of the year before ``delivery_year``."""
        year = delivery_year - 1
        if year not in self.rural_income_prior_years:
            raise PolicyError(
                f"rural_income_prior_year.{year}: no rural income for {year} in {self.path} "
                f"(years present: {sorted(self.rural_income_prior_years)})"
            )
        return self.rural_income_prior_years[year]

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    def map_risk_text(self, text: str | None) -> tuple[str, ...]:
        """Free text → risk types by the keyword table (ordered; a consumed keyword does not match again)."""
        if not text:
            return ()
        rest, found = text, []
        for row in self.risk_keywords:
            hit = False
            for keyword in row.keywords:
                if keyword in rest:
                    hit = True
                    rest = rest.replace(keyword, "\0")
            if hit and row.risk_type not in found:
                found.append(row.risk_type)
        return tuple(found)


class _Timeline:
    """The policy of each stretch between change dates; ``at(day)`` picks the one in force."""

    def __init__(self, starts: list[date], versions: list[Policy]):
        self.starts, self.versions = starts, versions  # versions[k]: the first k changes applied

    def at(self, day: date) -> Policy:
        return self.versions[bisect.bisect_right(self.starts, day)]


def _file_limits(raw: dict) -> FileLimits:
    unknown = sorted(set(raw) - set(FileLimits.__dataclass_fields__))
    if unknown:
        raise PolicyError(
            f"ingest.file_limits.{unknown[0]}: unknown limit; the limits are "
            + ", ".join(FileLimits.__dataclass_fields__)
        )
    values = {k: number(f"ingest.file_limits.{k}", v) for k, v in raw.items()}
    return FileLimits(**{k: int(v) if k in ("max_cells", "max_columns") else v for k, v in values.items()})


def _parse(path: Path, data: dict) -> Policy:
    ingest = mapping("ingest", data.get("ingest"))
    ratio = ingest.get("snapshot_shrink_ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise fail("ingest.snapshot_shrink_ratio", "a number in (0, 1]", ratio)
    low_high = ingest.get("drift_row_ratio")
    if not (isinstance(low_high, list) and len(low_high) == 2 and 0 < low_high[0] < 1 < low_high[1]):
        raise fail("ingest.drift_row_ratio", "[low < 1, high > 1]", low_high)
    tolerance = ingest.get("drift_null_rate_tolerance")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise fail("ingest.drift_null_rate_tolerance", "a number in [0, 1)", tolerance)
    file_limits = _file_limits(mapping("ingest.file_limits", ingest.get("file_limits", {})))

    risk_types = data.get("risk_types")
    if not (isinstance(risk_types, list) and risk_types and all(isinstance(t, str) and t for t in risk_types)):
        raise fail("risk_types", "a non-empty list of names", risk_types)
    risk_types = tuple(risk_types)

    keywords_raw = data.get("risk_keywords")
    if not isinstance(keywords_raw, list) or not keywords_raw:
        raise fail("risk_keywords", "a non-empty list of {keywords, risk_type}", keywords_raw)
    keyword_rows = []
    for i, row in enumerate(keywords_raw):
        row = mapping(f"risk_keywords[{i}]", row)
        words = row.get("keywords")
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)):
            raise fail(f"risk_keywords[{i}].keywords", "a non-empty list of words", words)
        keyword_rows.append(
            KeywordRow(tuple(words), risk_type(f"risk_keywords[{i}].risk_type", row.get("risk_type"), risk_types))
        )

    rules = parse_rules(data.get("rules"), risk_types)
    names = {
        str(k): text(f"parameter_names.{k}", v)
        for k, v in mapping("parameter_names", data.get("parameter_names")).items()
    }

    exclusion_raw = mapping("exclusion", data.get("exclusion"))
    exclusion = {}
    for code, checks in _EXCLUSION_THRESHOLDS.items():
        entry = mapping(f"exclusion.{code}", exclusion_raw.get(code, {}) or {})
        values = {}
        for name, check in checks.items():
            if name not in entry:
                raise PolicyError(f"exclusion.{code}.{name}: missing")
            values[name] = check(f"exclusion.{code}.{name}", entry[name])
        exclusion[code] = MappingProxyType(values)

    max_age = {
        stage: whole(f"student_max_age.{stage}", age, minimum=1)
        for stage, age in mapping("student_max_age", data.get("student_max_age")).items()
    }

    levels = mapping("risk_levels", data.get("risk_levels"))
    risk_levels = RiskLevels(
        high_probability=fraction("risk_levels.high_probability", levels.get("high_probability")),
        medium_probability=fraction("risk_levels.medium_probability", levels.get("medium_probability")),
        model_warning_min_lift=number("risk_levels.model_warning_min_lift", levels.get("model_warning_min_lift")),
        model_capacity_per_village_per_week=whole(
            "risk_levels.model_capacity_per_village_per_week",
            levels.get("model_capacity_per_village_per_week"),
            minimum=0,
        ),
    )
    if risk_levels.model_warning_min_lift < 1:
        raise fail("risk_levels.model_warning_min_lift", "a number ≥ 1", risk_levels.model_warning_min_lift)
    if "model_warning_probability" in levels:
        raise PolicyError("risk_levels.model_warning_probability: replaced by model_warning_min_lift (docs/policy.md)")
    if risk_levels.medium_probability > risk_levels.high_probability:
        raise fail(
            "risk_levels.medium_probability",
            f"≤ high_probability ({risk_levels.high_probability})",
            risk_levels.medium_probability,
        )

    wf = mapping("workflow", data.get("workflow"))

    def dates(name: str) -> frozenset[date]:
        value = wf.get(name, [])
        if not isinstance(value, list):
            raise fail(f"workflow.{name}", "a list of dates", value)
        return frozenset(as_date(f"workflow.{name}[{i}]", v) for i, v in enumerate(value))

    green = wf.get("green_channel_risk_types")
    if not isinstance(green, list):
        raise fail("workflow.green_channel_risk_types", "a list of risk types", green)
    workflow = Workflow(
        **{
            name: whole(f"workflow.{name}", wf.get(name), minimum=1)
            for name in (
                "pending_visit_working_days",
                "review_anomaly_working_days",
                "publication_min_days",
                "total_working_days",
                "declined_cooldown_days",
                "elimination_retry_days",
            )
        },
        green_channel_risk_types=tuple(
            risk_type(f"workflow.green_channel_risk_types[{i}]", t, risk_types) for i, t in enumerate(green)
        ),
        holidays=dates("holidays"),
        makeup_working_days=dates("makeup_working_days"),
    )
    elimination = mapping("elimination", data.get("elimination"))
    model = mapping("model", data.get("model"))
    for key, name in [(f"rules.{r.code}.params.{n}", n) for r in rules.values() for n in r.params] + [
        (f"exclusion.{c}.{n}", n) for c, v in exclusion.items() for n in v
    ]:
        if name not in names:
            raise PolicyError(f"{key}: no Chinese name; add {name}: <名称> to parameter_names")
    return Policy(
        path=path,
        file_limits=file_limits,
        monitoring_lines=by_year("monitoring_line", data.get("monitoring_line")),
        rural_income_prior_years=by_year("rural_income_prior_year", data.get("rural_income_prior_year")),
        risk_types=risk_types,
        risk_keywords=tuple(keyword_rows),
        rules=MappingProxyType(rules),
        exclusion=MappingProxyType(exclusion),
        student_max_age=MappingProxyType(max_age),
        risk_levels=risk_levels,
        workflow=workflow,
        elimination_min_monitored_months=whole(
            "elimination.min_monitored_months", elimination.get("min_monitored_months"), minimum=1
        ),
        elimination_no_rule_days=whole("elimination.no_rule_days", elimination.get("no_rule_days"), minimum=1),
        model_horizon_days=whole("model.horizon_days", model.get("horizon_days"), minimum=1),
        model=model_settings(model),
        parameter_names=MappingProxyType(names),
        raw=MappingProxyType(data),
    )


def _parse_dated(path: Path, data: dict) -> Policy:
    """The file's policy, holding every dated version (each validated now) for ``as_of``."""
    changes = parse_changes(data.get("changes"))
    timeline = _Timeline([c.start for c, _ in changes], [])
    every = tuple(c for c, _ in changes)
    for k in range(len(changes) + 1):
        start = changes[k - 1][0].start if k else None
        try:
            version = _parse(path, apply_changes(data, changes, k))
        except PolicyError as exc:
            raise PolicyError(f"with the changes from {start.isoformat()} on: {exc}" if start else str(exc)) from None
        raw = data if k == 0 else version.raw
        timeline.versions.append(
            replace(version, raw=MappingProxyType(raw), in_force_from=start, changes=every, timeline=timeline)
        )
    return timeline.versions[0]


def policy_path() -> Path:
    return Path(os.environ.get("FFP_POLICY") or DEFAULT_POLICY)


@cache
def _load(path: Path) -> Policy:
    if not path.exists():
        raise PolicyError(f"policy file {path} does not exist (FFP_POLICY)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} is not a mapping")
    try:
        return _parse_dated(path, data)
    except PolicyError as exc:
        raise PolicyError(f"{path.name}: {exc}") from None


def load_policy(path: Path | str | None = None) -> Policy:
    return _load(Path(path) if path else policy_path())


def parse_policy(data: dict, path: Path | str = "<dict>") -> Policy:
    """Validate an in-memory policy mapping (tests, tools)."""
    return _parse_dated(Path(path), data)
