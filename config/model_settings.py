"""The policy file's ``model`` section (docs/model.md, docs/policy.md): the risk model's training, gate and
explanation settings, validated on load by config.policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fangfanpin.config.values import fail, fraction, number, whole


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
    promote_min_recall_gain: float  # production recall minus the rules' recall, at least (and its interval above 0)
    promote_max_extra_visits: float  # production visits at most (1 + this) times the rules' visits
    promote_min_type_recall_share: float  # per household type, model recall ≥ this share of the rules' recall
    promote_type_min_positives: int  # a household type with fewer positives is shown on the card, not gated
    backtest_windows: int  # rolling-origin validation windows on the card


def model_settings(model: dict) -> ModelSettings:
    """The ``model`` section, validated (defaults for the optional keys)."""

    def opt(name: str, default: Any) -> Any:
        return model.get(name, default)

    calibration = opt("calibration", "sigmoid")
    if calibration not in ("sigmoid", "isotonic"):
        raise fail("model.calibration", "sigmoid or isotonic", calibration)
    settings = ModelSettings(
        horizon_days=whole("model.horizon_days", model.get("horizon_days"), minimum=1),
        training_months=whole("model.training_months", opt("training_months", 12), minimum=2),
        validation_months=whole("model.validation_months", opt("validation_months", 3), minimum=1),
        min_positive_labels=whole("model.min_positive_labels", opt("min_positive_labels", 20), minimum=1),
        max_training_rows=whole("model.max_training_rows", opt("max_training_rows", 150000), minimum=1000),
        calibration=calibration,
        promote_min_auc=fraction("model.promote_min_auc", opt("promote_min_auc", 0.6)),
        explain_min_probability=fraction("model.explain_min_probability", opt("explain_min_probability", 0.1)),
        top_features=whole("model.top_features", opt("top_features", 3), minimum=1),
        drift_psi_warn=number("model.drift_psi_warn", opt("drift_psi_warn", 0.25)),
        promote_min_recall_gain=fraction("model.promote_min_recall_gain", opt("promote_min_recall_gain", 0.05)),
        promote_max_extra_visits=number(
            "model.promote_max_extra_visits", opt("promote_max_extra_visits", 0.15), allow_zero=True
        ),
        promote_min_type_recall_share=fraction(
            "model.promote_min_type_recall_share", opt("promote_min_type_recall_share", 0.5)
        ),
        promote_type_min_positives=whole(
            "model.promote_type_min_positives", opt("promote_type_min_positives", 10), minimum=1
        ),
        backtest_windows=whole("model.backtest_windows", opt("backtest_windows", 3), minimum=1),
    )
    if settings.validation_months >= settings.training_months:
        raise fail(
            "model.validation_months", f"< training_months ({settings.training_months})", settings.validation_months
        )
    return settings
