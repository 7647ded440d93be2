"""Train, choose, calibrate, gate and store the risk model.

    result = train(con, policy, model_dir)               # truth=<generator truth dir> adds the honest evaluation

1. training set from month-end feature dates (models.dataset), split by time: the newest ``validation_months``
   dates validate, the earlier ones train;
2. two candidates, each calibrated (CalibratedClassifierCV, sigmoid or isotonic, on the training window):
   logistic regression with balanced class weights, and histogram gradient boosting (log-loss, no class weights:
   they force weighted binning, several times slower, for no gain in ranking); above ``max_training_rows`` every
   positive is kept and negatives are sampled, and ``prior_shift`` restores the population's base rate;
3. the candidate with the higher validation PR-AUC is chosen, refitted on every labelled date, and stored;
4. the card measures what the county gets on the validation window (the production configuration against the rules,
   with a bootstrap interval; the first tasks of each village; townships and household types) and on a rolling-origin
   backtest; the model is promoted only if it passes every check of ``promotion_gate`` (a model that fails is kept on
   disk but not promoted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from fangfanpin.charts import calibration as calibration_png
from fangfanpin.config.policy import Policy
from fangfanpin.models import artifacts, evaluation, reach
from fangfanpin.models.backtest import rolling_origin
from fangfanpin.models.card import render_card
from fangfanpin.models.dataset import TrainingSet, build_training_set
from fangfanpin.models.features import FEATURE_LABELS_ZH, FEATURE_NAMES
from fangfanpin.models.targeting import warning_floor


@dataclass
class TrainingResult:
    status: str  # promoted / not_promoted / skipped
    message: str
    version: str | None = None
    chosen: str | None = None
    card: dict = field(default_factory=dict)
    seconds: float = 0.0


def candidates(calibration: str, seed: int = 0) -> dict:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    logistic = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(class_weight="balanced", C=0.5, max_iter=1000)),
        ]
    )
    boosting = HistGradientBoostingClassifier(
        max_iter=80,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    return {
        name: CalibratedClassifierCV(est, method=calibration, cv=3, ensemble=False)
        for name, est in (("logistic_regression", logistic), ("hist_gradient_boosting", boosting))
    }


def _sample(X: np.ndarray, y: np.ndarray, limit: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Keep every positive and a random share of negatives when above ``limit`` rows; returns the negative weight."""
    if len(y) <= limit:
        return X, y, 1.0
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    keep_neg = rng.choice(neg, size=max(limit - pos.size, 1), replace=False)
    idx = np.sort(np.concatenate([pos, keep_neg]))
    return X[idx], y[idx], neg.size / keep_neg.size


# Below this many rows the boosting model fits on one OpenMP thread: thread start-up costs about what a second core
# saves there, and more on a busy machine. Measured on 2 cores (calibrated, cv=3): 20,000 rows 0.94 s on one thread,
# 0.92 s on two; 40,000 1.43 / 1.19 s; 80,000 2.78 / 1.98 s; 145,000 (the 25,000-household demo) 4.48 / 2.84 s.
ONE_THREAD_BELOW_ROWS = 40_000


def _fit(model, X, y):
    """Fit (on one OpenMP thread below ``ONE_THREAD_BELOW_ROWS``). No sample weights: weighted binning makes the
    boosting model several times slower; a negative subsample is corrected afterwards by ``prior_shift``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1 if len(y) < ONE_THREAD_BELOW_ROWS else None, user_api="openmp"):
        return model.fit(X, y)


def prior_shift(p: np.ndarray, negative_weight: float) -> np.ndarray:
    """Probabilities of a model calibrated on a sample keeping 1/negative_weight of the negatives, mapped back to the
    full population's base rate (odds divided by the weight)."""
    if negative_weight == 1.0:
        return p
    return p / (p + (1 - p) * negative_weight)


def predict(model, X: np.ndarray, negative_weight: float = 1.0) -> np.ndarray:
    return prior_shift(model.predict_proba(X)[:, 1], negative_weight)


def promotion_gate(metrics: dict, settings) -> dict[str, bool]:
    """The checks a model must pass on the validation window (each True to be promoted):
    - auc_ok: ROC-AUC ≥ ``promote_min_auc``;
    - beats_rules_at_equal_workload: recall at the rules' workload ≥ the rules' recall;
    - production_gain: rules + model warnings reach at least ``promote_min_recall_gain`` more recall than the rules
      alone, the 95 % interval's lower bound above 0, with at most ``promote_max_extra_visits`` more visits;
    - fair_by_household_type: in every household type with at least ``promote_type_min_positives`` positives,
      recall at the rules' workload ≥ ``promote_min_type_recall_share`` × the rules' recall there."""
    work = metrics["workload"]
    rules, prod, gain = work["rules_alone"], work["production"], metrics["production_gain"]
    extra = prod["workload"] / rules["workload"] - 1 if rules["workload"] else float("inf")
    fair, _ = reach.fair_by_type(
        metrics["by_household_type"], settings.promote_min_type_recall_share, settings.promote_type_min_positives
    )
    return {
        "auc_ok": (metrics["model"]["roc_auc"] or 0) >= settings.promote_min_auc,
        "beats_rules_at_equal_workload": work["model_equal_workload"]["recall"] >= rules["recall"],
        "production_gain": gain["difference"] >= settings.promote_min_recall_gain
        and (gain["ci95"][0] or 0) > 0
        and extra <= settings.promote_max_extra_visits,
        "fair_by_household_type": fair,
    }


GATE_ZH = {
    "auc_ok": "ROC-AUC 低于 {min_auc}",
    "beats_rules_at_equal_workload": "同等走访量下召回率不如规则",
    "production_gain": "规则 + 模型预警的召回率提升不足 {gain}（或其 95% 区间下限不大于 0，或走访量多于规则的 {extra}）",
    "fair_by_household_type": "某类农户（正样本不少于 {min_positives} 个）的召回率低于规则在该类农户召回率的 {share}",
}


def _production(con, ts: TrainingSet, mask: np.ndarray, probability: np.ndarray, policy: Policy, y, base: float):
    """The window's rows with the rules' flags, and its workload metrics and selections (rules, model warnings as
    the daily scoring chooses them with the base rate ``base``, production)."""
    frame = ts.frame.filter(mask)
    flags = evaluation.rule_flags(con, sorted(set(frame["as_of_date"].to_list())))
    f = evaluation.flagged(frame, probability, flags)
    levels = policy.risk_levels
    floor = warning_floor(levels.model_warning_min_lift, base)
    workload, chosen = evaluation.workload_metrics(f, y, levels.model_capacity_per_village_per_week, floor)
    return frame, flags, f, workload, chosen


def _evaluate(
    con, ts: TrainingSet, mask: np.ndarray, probability: np.ndarray, policy: Policy, y: np.ndarray, base: float
) -> dict:
    frame, flags, f, workload, chosen = _production(con, ts, mask, probability, policy, y, base)
    groups = {k: chosen[k] for k in ("rules_alone", "model_equal_workload", "production")}
    households = frame["household_id"].to_numpy()
    return {
        "model": evaluation.ranking_metrics(probability, y),
        "rules": evaluation.ranking_metrics(evaluation.rules_ranking(frame, flags), y, probability=False),
        "workload": workload,
        "production_gain": reach.recall_difference(households, y, chosen["production"], chosen["rules_alone"]),
        "first_k": reach.first_k(f, chosen["production"], y),
        "by_township": reach.by_group(f, y, groups, "township"),
        "by_household_type": reach.by_group(f, y, groups, "household_type"),
        "calibration": evaluation.calibration_bins(probability, y),
        "base_rate_trained": round(float(base), 6),
        "rows": int(mask.sum()),
        "positives": int(y.sum()),
    }


def _backtest(con, ts: TrainingSet, policy: Policy, chosen: str) -> dict:
    """The rolling-origin backtest (models.backtest) of the chosen kind of model, measured as the validation window."""
    settings = policy.model

    def fit_predict(train_rows: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, float]:
        X, y, weight = _sample(ts.X[train_rows], ts.y[train_rows], settings.max_training_rows)
        model = _fit(candidates(settings.calibration)[chosen], X, y)
        return predict(model, ts.X[window], weight), float(ts.y[train_rows].mean())

    def measure(window: np.ndarray, probability: np.ndarray, base: float, y: np.ndarray) -> dict:
        workload = _production(con, ts, window, probability, policy, y, base)[3]
        return workload | {"roc_auc": evaluation.ranking_metrics(probability, y)["roc_auc"]}

    return rolling_origin(ts, settings.backtest_windows, fit_predict, measure)


def train(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    model_dir: Path | str,
    *,
    truth: Path | str | None = None,
    promote: bool = True,
) -> TrainingResult:
    started = time.perf_counter()
    settings = policy.model
    model_dir = Path(model_dir)
    ts = build_training_set(con, policy)
    if len(ts.dates) < 2:
        return TrainingResult(
            "skipped",
            f"需要至少 2 个已过观察期的月末日期，现有 {len(ts.dates)} 个",
            seconds=time.perf_counter() - started,
        )
    n_val = min(settings.validation_months, len(ts.dates) - 1)
    val_dates = ts.dates[-n_val:]
    val = ts.frame["as_of_date"].is_in(val_dates).to_numpy()
    train_mask = ~val
    if ts.y[train_mask].sum() < settings.min_positive_labels or ts.y[val].sum() == 0:
        return TrainingResult(
            "skipped",
            f"训练窗口正样本 {int(ts.y[train_mask].sum())} 个，少于 "
            f"{settings.min_positive_labels}（或验证窗口无正样本），不训练",
            seconds=time.perf_counter() - started,
        )
    X_tr, y_tr, w = _sample(ts.X[train_mask], ts.y[train_mask], settings.max_training_rows)
    base_train = float(ts.y[train_mask].mean())
    scores = {}
    for name, model in candidates(settings.calibration).items():
        _fit(model, X_tr, y_tr)
        p = predict(model, ts.X[val], w)
        scores[name] = (_evaluate(con, ts, val, p, policy, ts.y[val], base_train), p)
    chosen = max(scores, key=lambda n: (scores[n][0]["model"]["pr_auc"] or 0, scores[n][0]["model"]["roc_auc"] or 0))
    metrics, p_val = scores[chosen]
    honest = None
    if truth is not None:
        y_truth = evaluation.truth_labels(truth, ts.frame.filter(val), settings.horizon_days)
        honest = _evaluate(con, ts, val, p_val, policy, y_truth, base_train)

    backtest = _backtest(con, ts, policy, chosen)

    final = candidates(settings.calibration)[chosen]
    X_all, y_all, w_all = _sample(ts.X, ts.y, settings.max_training_rows)
    _fit(final, X_all, y_all)
    checks = promotion_gate(metrics, settings)
    promoted = promote and all(checks.values())
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + ts.fingerprint[:8]
    card = {
        "version": version,
        "model_type": chosen,
        "calibration": settings.calibration,
        "negative_weight": w_all,
        "base_rate": round(float(ts.y.mean()), 6),
        "created_utc": datetime.now(UTC).isoformat(),
        "code_version": artifacts.code_version(),
        "data_fingerprint": ts.fingerprint,
        "training_dates": [str(d) for d in ts.dates[:-n_val]],
        "validation_dates": [str(d) for d in val_dates],
        "refit_dates": [str(d) for d in ts.dates],
        "horizon_days": settings.horizon_days,
        "rows": {
            "train": int(train_mask.sum()),
            "validation": int(val.sum()),
            "refit_sampled": int(len(y_all)),
            "train_positives": int(ts.y[train_mask].sum()),
            "validation_positives": int(ts.y[val].sum()),
        },
        "features": list(FEATURE_NAMES),
        "feature_labels_zh": FEATURE_LABELS_ZH,
        "reference": {
            "median": [float(f"{m:.6g}") for m in np.nan_to_num(np.nanmedian(ts.X, axis=0), nan=0.0)],
            "bins": evaluation.reference_bins(ts.X),
        },
        "candidates": {n: s[0]["model"] for n, s in scores.items()},
        "validation": metrics,
        "truth_validation": honest,
        "backtest": backtest,
        "gate": {k: bool(v) for k, v in checks.items()}
        | {
            "min_auc": settings.promote_min_auc,
            "min_recall_gain": settings.promote_min_recall_gain,
            "max_extra_visits": settings.promote_max_extra_visits,
            "min_type_recall_share": settings.promote_min_type_recall_share,
            "type_min_positives": settings.promote_type_min_positives,
            "promoted": bool(promoted),
        },
        "policy": {
            "capacity_per_village_per_week": policy.risk_levels.model_capacity_per_village_per_week,
            "model_warning_min_lift": policy.risk_levels.model_warning_min_lift,
        },
    }
    files = {"card.md": render_card(card), "calibration.png": calibration_png(metrics["calibration"])}
    artifacts.save(model_dir, version, final, card, files)
    if promoted:
        artifacts.promote(model_dir, version)
        status, message = "promoted", f"模型 {version}（{chosen}）已启用"
    else:
        status = "not_promoted"
        values = {
            "min_auc": settings.promote_min_auc,
            "gain": settings.promote_min_recall_gain,
            "extra": f"{settings.promote_max_extra_visits:.0%}",
            "share": f"{settings.promote_min_type_recall_share:.0%}",
            "min_positives": settings.promote_type_min_positives,
        }
        message = (
            f"模型 {version}（{chosen}）未启用：验证窗口上"
            + "".join(GATE_ZH[k].format(**values) + "；" for k, ok in checks.items() if not ok)
            + ("" if promote else "按要求不启用")
        )
    return TrainingResult(
        status, message, version, chosen, artifacts.load_card(model_dir, version), time.perf_counter() - started
    )
