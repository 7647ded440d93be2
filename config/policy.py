"""Load the policy file (policy.md): the packaged demo county's, or the one ``FFP_POLICY`` points at.

    policy = load_policy()
    policy.monitoring_line(2026)                 # 9000.0
    policy.rule("MED-BURDEN").value("share_other")  # 1.0
    policy["ingest"]["snapshot_shrink_ratio"]    # raw section access, as the ingest assets use it

Everything is validated on load; a bad value raises ``PolicyError`` naming the key and the value, e.g.
``rules.MED-BURDEN.share_other: must be a number > 0, got 'abc'``. No threshold lives in code: the rules read
theirs from ``Policy.rules``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from fangfanpin.config import CONFIG_DIR

DEFAULT_POLICY = CONFIG_DIR / "policy.yaml"
SEVERITIES = ("高", "中")
# Pseudo risk types a rule may name instead of a standard one (see policy.yaml).
DERIVED_RISK_TYPES = ("roster", "reason", "wage_or_business")
RULE_CODES = (
    "INC-LOW",
    "INC-DROP",
    "MED-BURDEN",
    "MED-CATASTROPHIC",
    "MED-UNINSURED",
    "EDU-DROPOUT",
    "EDU-MISSING",
    "EDU-BURDEN",
    "HOU-UNSAFE",
    "CIV-NEW-DIBAO",
    "CIV-TEMP-AID",
    "CIV-DISABILITY",
    "CIV-DIBAO-EXIT",
    "LAB-NONE",
    "WAT-UNSAFE",
)
EXCLUSION_CODES = ("EXC-VEHICLE", "EXC-HOUSE", "EXC-BUSINESS", "EXC-PUBLIC", "EXC-ASSETS")


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense; the message names the key."""


# --- value checks: each returns the cleaned value or raises PolicyError naming the key ------------------------------


def _fail(key: str, wanted: str, value: Any) -> PolicyError:
    return PolicyError(f"{key}: must be {wanted}, got {value!r}")


def _number(key: str, value: Any, *, positive: bool = True, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(key, "a number > 0" if positive and not allow_zero else "a number ≥ 0", value)
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        raise _fail(key, "a number > 0" if not allow_zero else "a number ≥ 0", value)
    return float(value)


def _fraction(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise _fail(key, "a number between 0 and 1", value)
    return float(value)


def _int(key: str, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(key, f"a whole number ≥ {minimum}", value)
    return value


def _mapping(key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _fail(key, "a mapping", value)
    return value


def _date(key: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(key, "a date YYYY-MM-DD", value) from None


def _by_year(key: str, value: Any) -> Mapping[int, float]:
    out = {}
    for year, amount in _mapping(key, value).items():
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise _fail(f"{key}.{year}", "keyed by a year such as 2026", year)
        out[year] = _number(f"{key}.{year}", amount)
    if not out:
        raise _fail(key, "at least one year", value)
    return MappingProxyType(out)


# Per rule: threshold name → checker. Every listed threshold is required.
_RULE_THRESHOLDS = {
    "INC-LOW": {},
    "INC-DROP": {"drop_share": _fraction, "line_multiple": _number},
    "MED-BURDEN": {"window_days": lambda k, v: _int(k, v, minimum=1), "share_poverty": _number, "share_other": _number},
    "MED-CATASTROPHIC": {"window_days": lambda k, v: _int(k, v, minimum=1), "total_cost": _number},
    "MED-UNINSURED": {},
    "EDU-DROPOUT": {"min_age": _int, "max_age": _int},
    "EDU-MISSING": {"min_age": _int, "max_age": _int},
    "EDU-BURDEN": {"min_students": lambda k, v: _int(k, v, minimum=1), "line_multiple": _number},
    "HOU-UNSAFE": {"grades": None},
    "CIV-NEW-DIBAO": {"window_days": lambda k, v: _int(k, v, minimum=1)},
    "CIV-TEMP-AID": {"window_days": lambda k, v: _int(k, v, minimum=1)},
    "CIV-DISABILITY": {"window_days": lambda k, v: _int(k, v, minimum=1)},
    "CIV-DIBAO-EXIT": {"window_days": lambda k, v: _int(k, v, minimum=1), "line_multiple": _number},
    "LAB-NONE": {},
    "WAT-UNSAFE": {},
}
_EXCLUSION_THRESHOLDS = {
    "EXC-VEHICLE": {"min_count": lambda k, v: _int(k, v, minimum=1)},
    "EXC-HOUSE": {"min_count": lambda k, v: _int(k, v, minimum=1)},
    "EXC-BUSINESS": {"min_count": lambda k, v: _int(k, v, minimum=1)},
    "EXC-PUBLIC": {},
    "EXC-ASSETS": {"line_multiple": _number},
}


@dataclass(frozen=True)
class Rule:
    code: str
    risk_type: str  # a standard risk type, or one of DERIVED_RISK_TYPES
    severity: str  # 高 / 中
    fallback: str | None  # the risk type when a derived one finds nothing
    thresholds: Mapping[str, Any]

    def value(self, name: str) -> Any:
        try:
            return self.thresholds[name]
        except KeyError:
            raise PolicyError(f"rules.{self.code}.{name}: not set in the policy file") from None


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
    model_warning_probability: float
    model_capacity_per_village_per_week: int


@dataclass(frozen=True)
class ModelSettings:
    horizon_days: int
    training_months: int
    validation_months: int
    min_positive_labels: int
    max_training_rows: int
    calibration: str  # sigmoid / isotonic
    promote_min_auc: float
    explain_min_probability: float
    top_features: int
    drift_psi_warn: float


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
    raw: Mapping[str, Any] = field(repr=False)

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


def _file_limits(raw: dict) -> FileLimits:
    unknown = sorted(set(raw) - set(FileLimits.__dataclass_fields__))
    if unknown:
        raise PolicyError(
            f"ingest.file_limits.{unknown[0]}: unknown limit; the limits are "
            + ", ".join(FileLimits.__dataclass_fields__)
        )
    values = {k: _number(f"ingest.file_limits.{k}", v) for k, v in raw.items()}
    return FileLimits(**{k: int(v) if k in ("max_cells", "max_columns") else v for k, v in values.items()})


def _risk_type(key: str, value: Any, risk_types: tuple[str, ...], *, derived: bool = False) -> str:
    allowed = risk_types + (DERIVED_RISK_TYPES if derived else ())
    if value not in allowed:
        raise _fail(key, "one of " + "/".join(allowed), value)
    return value


def _parse(path: Path, data: dict) -> Policy:
    ingest = _mapping("ingest", data.get("ingest"))
    ratio = ingest.get("snapshot_shrink_ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise _fail("ingest.snapshot_shrink_ratio", "a number in (0, 1]", ratio)
    low_high = ingest.get("drift_row_ratio")
    if not (isinstance(low_high, list) and len(low_high) == 2 and 0 < low_high[0] < 1 < low_high[1]):
        raise _fail("ingest.drift_row_ratio", "[low < 1, high > 1]", low_high)
    tolerance = ingest.get("drift_null_rate_tolerance")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise _fail("ingest.drift_null_rate_tolerance", "a number in [0, 1)", tolerance)
    file_limits = _file_limits(_mapping("ingest.file_limits", ingest.get("file_limits", {})))

    risk_types = data.get("risk_types")
    if not (isinstance(risk_types, list) and risk_types and all(isinstance(t, str) and t for t in risk_types)):
        raise _fail("risk_types", "a non-empty list of names", risk_types)
    risk_types = tuple(risk_types)

    keywords_raw = data.get("risk_keywords")
    if not isinstance(keywords_raw, list) or not keywords_raw:
        raise _fail("risk_keywords", "a non-empty list of {keywords, risk_type}", keywords_raw)
    keyword_rows = []
    for i, row in enumerate(keywords_raw):
        row = _mapping(f"risk_keywords[{i}]", row)
        words = row.get("keywords")
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)):
            raise _fail(f"risk_keywords[{i}].keywords", "a non-empty list of words", words)
        keyword_rows.append(
            KeywordRow(tuple(words), _risk_type(f"risk_keywords[{i}].risk_type", row.get("risk_type"), risk_types))
        )

    rules_raw = _mapping("rules", data.get("rules"))
    rules = {}
    for code, checks in _RULE_THRESHOLDS.items():
        if code not in rules_raw:
            raise PolicyError(f"rules.{code}: missing (every rule of policy.md needs an entry)")
        entry = _mapping(f"rules.{code}", rules_raw[code])
        severity = entry.get("severity")
        if severity not in SEVERITIES:
            raise _fail(f"rules.{code}.severity", "高 or 中", severity)
        risk_type = _risk_type(f"rules.{code}.risk_type", entry.get("risk_type"), risk_types, derived=True)
        fallback = entry.get("fallback")
        if fallback is not None:
            fallback = _risk_type(f"rules.{code}.fallback", fallback, risk_types)
        thresholds = {}
        for name, check in checks.items():
            key = f"rules.{code}.{name}"
            if name not in entry:
                raise PolicyError(f"{key}: missing")
            if check is None:  # list of codes
                value = entry[name]
                if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                    raise _fail(key, "a non-empty list", value)
                thresholds[name] = tuple(value)
            else:
                thresholds[name] = check(key, entry[name])
        if "min_age" in thresholds and thresholds["min_age"] > thresholds["max_age"]:
            raise _fail(f"rules.{code}.min_age", f"≤ max_age ({thresholds['max_age']})", thresholds["min_age"])
        rules[code] = Rule(code, risk_type, severity, fallback, MappingProxyType(thresholds))
    unknown = sorted(set(rules_raw) - set(_RULE_THRESHOLDS))
    if unknown:
        raise PolicyError(f"rules.{unknown[0]}: unknown rule code (known: {', '.join(RULE_CODES)})")

    exclusion_raw = _mapping("exclusion", data.get("exclusion"))
    exclusion = {}
    for code, checks in _EXCLUSION_THRESHOLDS.items():
        entry = _mapping(f"exclusion.{code}", exclusion_raw.get(code, {}) or {})
        values = {}
        for name, check in checks.items():
            if name not in entry:
                raise PolicyError(f"exclusion.{code}.{name}: missing")
            values[name] = check(f"exclusion.{code}.{name}", entry[name])
        exclusion[code] = MappingProxyType(values)

    max_age = {
        stage: _int(f"student_max_age.{stage}", age, minimum=1)
        for stage, age in _mapping("student_max_age", data.get("student_max_age")).items()
    }

    levels = _mapping("risk_levels", data.get("risk_levels"))
    risk_levels = RiskLevels(
        high_probability=_fraction("risk_levels.high_probability", levels.get("high_probability")),
        medium_probability=_fraction("risk_levels.medium_probability", levels.get("medium_probability")),
        model_warning_probability=_fraction(
            "risk_levels.model_warning_probability", levels.get("model_warning_probability")
        ),
        model_capacity_per_village_per_week=_int(
            "risk_levels.model_capacity_per_village_per_week",
            levels.get("model_capacity_per_village_per_week"),
            minimum=0,
        ),
    )
    if risk_levels.medium_probability > risk_levels.high_probability:
        raise _fail(
            "risk_levels.medium_probability",
            f"≤ high_probability ({risk_levels.high_probability})",
            risk_levels.medium_probability,
        )

    wf = _mapping("workflow", data.get("workflow"))

    def dates(name: str) -> frozenset[date]:
        value = wf.get(name, [])
        if not isinstance(value, list):
            raise _fail(f"workflow.{name}", "a list of dates", value)
        return frozenset(_date(f"workflow.{name}[{i}]", v) for i, v in enumerate(value))

    green = wf.get("green_channel_risk_types")
    if not isinstance(green, list):
        raise _fail("workflow.green_channel_risk_types", "a list of risk types", green)
    workflow = Workflow(
        **{
            name: _int(f"workflow.{name}", wf.get(name), minimum=1)
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
            _risk_type(f"workflow.green_channel_risk_types[{i}]", t, risk_types) for i, t in enumerate(green)
        ),
        holidays=dates("holidays"),
        makeup_working_days=dates("makeup_working_days"),
    )
    elimination = _mapping("elimination", data.get("elimination"))
    model = _mapping("model", data.get("model"))
    return Policy(
        path=path,
        file_limits=file_limits,
        monitoring_lines=_by_year("monitoring_line", data.get("monitoring_line")),
        rural_income_prior_years=_by_year("rural_income_prior_year", data.get("rural_income_prior_year")),
        risk_types=risk_types,
        risk_keywords=tuple(keyword_rows),
        rules=MappingProxyType(rules),
        exclusion=MappingProxyType(exclusion),
        student_max_age=MappingProxyType(max_age),
        risk_levels=risk_levels,
        workflow=workflow,
        elimination_min_monitored_months=_int(
            "elimination.min_monitored_months", elimination.get("min_monitored_months"), minimum=1
        ),
        elimination_no_rule_days=_int("elimination.no_rule_days", elimination.get("no_rule_days"), minimum=1),
        model_horizon_days=_int("model.horizon_days", model.get("horizon_days"), minimum=1),
        model=_model_settings(model),
        raw=MappingProxyType(data),
    )


def _model_settings(model: dict) -> ModelSettings:
    def opt(name: str, default: Any) -> Any:
        return model.get(name, default)

    calibration = opt("calibration", "sigmoid")
    if calibration not in ("sigmoid", "isotonic"):
        raise _fail("model.calibration", "sigmoid or isotonic", calibration)
    settings = ModelSettings(
        horizon_days=_int("model.horizon_days", model.get("horizon_days"), minimum=1),
        training_months=_int("model.training_months", opt("training_months", 12), minimum=2),
        validation_months=_int("model.validation_months", opt("validation_months", 3), minimum=1),
        min_positive_labels=_int("model.min_positive_labels", opt("min_positive_labels", 20), minimum=1),
        max_training_rows=_int("model.max_training_rows", opt("max_training_rows", 150000), minimum=1000),
        calibration=calibration,
        promote_min_auc=_fraction("model.promote_min_auc", opt("promote_min_auc", 0.6)),
        explain_min_probability=_fraction("model.explain_min_probability", opt("explain_min_probability", 0.1)),
        top_features=_int("model.top_features", opt("top_features", 3), minimum=1),
        drift_psi_warn=_number("model.drift_psi_warn", opt("drift_psi_warn", 0.25)),
    )
    if settings.validation_months >= settings.training_months:
        raise _fail(
            "model.validation_months", f"< training_months ({settings.training_months})", settings.validation_months
        )
    return settings


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
        return _parse(path, data)
    except PolicyError as exc:
        raise PolicyError(f"{path.name}: {exc}") from None


def load_policy(path: Path | str | None = None) -> Policy:
    return _load(Path(path) if path else policy_path())


def parse_policy(data: dict, path: Path | str = "<dict>") -> Policy:
    """Validate an in-memory policy mapping (tests, tools)."""
    return _parse(Path(path), data)
