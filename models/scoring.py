"""Score every household of one delivery date: probability, risk level 高/中/低, model warnings, reasons in Chinese.

    n = score_households(con, day, policy, model_dir)     # table household_scores, rewritten for ``day``

One DuckDB query gives the features and the day's rule hits per household; the promoted model (if any) scores the
numpy matrix; levels follow the policy (高: any 高 rule or p ≥ high; 中: any rule or p ≥ medium; else 低). A model
warning (模型预警) is a household not monitored, with no rule hit, ranked by probability within its village's weekly
capacity and at least ``model_warning_min_lift`` times the model's base rate (models.targeting: ISO week of ``day``;
households already warned earlier that week keep their place). With no promoted model: probability NULL, levels from
the rules, no model warnings. Contributing features, per household (every model warning, and every household with
p ≥ explain_min_probability): the drop in probability when one feature alone is set to its training median, the
largest first, named when it is at least 5 % of the household's probability; the phrases come from models.features.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from fangfanpin.config.policy import Policy, load_policy
from fangfanpin.core.arrow import registered
from fangfanpin.core.settings import settings
from fangfanpin.core.sql import transaction
from fangfanpin.models.artifacts import LoadedModel, load_promoted
from fangfanpin.models.dataset import feature_frame
from fangfanpin.models.features import (
    FEATURE_NAMES,
    FEATURE_RISK_TYPES,
    FEATURES,
    feature_params,
    feature_phrases,
    feature_select,
    matrix,
)
from fangfanpin.models.targeting import select_warnings, warning_floor
from fangfanpin.models.training import predict
from fangfanpin.schema import ensure_schema, keep_scored_day

COLUMNS = (
    "as_of_date",
    "county_code",
    "township",
    "village_code",
    "household_id",
    "household_type",
    "monitored",
    "probability",
    "risk_level",
    "rule_codes",
    "risk_types",
    "severity_max",
    "model_warning",
    "explanation_zh",
    "top_features_zh",
    "model_version",
)


def _inputs(con: duckdb.DuckDBPyConnection, day: date, policy: Policy) -> pl.DataFrame:
    return con.sql(
        f"""
        WITH r AS (
            SELECT household_id, string_agg(rule_code, ';' ORDER BY rule_code) AS rule_codes,
                   string_agg(DISTINCT risk_type, ';' ORDER BY risk_type) AS risk_types,
                   CASE WHEN bool_or(severity = '高') THEN '高' ELSE '中' END AS severity_max,
                   string_agg(explanation_zh, '；' ORDER BY CASE WHEN severity = '高' THEN 0 ELSE 1 END, rule_code)
                       AS explanation_zh
            FROM rule_hits WHERE as_of_date = $d GROUP BY household_id)
        SELECT h.as_of_date, h.county_code, h.township, h.village_code, h.household_id, h.household_type,
               coalesce(h.monitored, false) AS monitored, {feature_select()},
               coalesce(r.rule_codes, '') AS rule_codes, coalesce(r.risk_types, '') AS risk_types, r.severity_max,
               coalesce(r.explanation_zh, '') AS explanation_zh
        FROM household_indicators h LEFT JOIN r USING (household_id) WHERE h.as_of_date = $d
        ORDER BY h.household_id""",
        params={"d": day} | feature_params(day, policy),
    ).pl()


def contributions(
    model, X: np.ndarray, reference: np.ndarray, base: np.ndarray | None = None, negative_weight: float = 1.0
) -> np.ndarray:
    """(rows × features): p(x) − p(x with feature j set to the training median); positive raises the risk."""
    n, k = X.shape
    if n == 0:
        return np.zeros((0, k))
    base = predict(model, X, negative_weight) if base is None else base
    out = np.empty((n, k))
    chunk = max(1, 400_000 // k)
    for start in range(0, n, chunk):
        part = X[start : start + chunk]
        stacked = np.repeat(part[None, :, :], k, axis=0)  # k × m × k
        for j in range(k):
            stacked[j, :, j] = reference[j]
        p = predict(model, stacked.reshape(-1, k), negative_weight).reshape(k, -1).T
        out[start : start + chunk] = base[start : start + chunk, None] - p
    return out


# A feature is named only when setting it to the training median lowers the household's probability by at least
# this share of that probability: a relative cut, so that a warning at 2 % is explained as well as one at 40 %.
MIN_RELATIVE_CONTRIBUTION = 0.05


def describe(
    X: np.ndarray, contrib: np.ndarray, reference: np.ndarray, top: int, values: dict, p: np.ndarray
) -> tuple[list[str], list[list[str]]]:
    """Per row: the Chinese phrases of its main contributing features (naming ``values``), and their feature names."""
    high = [f.high_zh.format_map(values) for f in FEATURES]
    low = [f.low_zh.format_map(values) for f in FEATURES]
    order = np.argsort(-contrib, axis=1)[:, :top]
    phrases, names = [], []
    for i in range(X.shape[0]):
        row_p, row_n = [], []
        for j in order[i]:
            if contrib[i, j] <= MIN_RELATIVE_CONTRIBUTION * p[i]:
                break
            f = FEATURES[j]
            x = X[i, j]
            row_p.append(f"缺少数据：{f.label_zh}" if np.isnan(x) else (high[j] if x > reference[j] else low[j]))
            row_n.append(f.name)
        phrases.append("、".join(row_p))
        names.append(row_n)
    return phrases, names


def _model_warnings(con, frame: pl.DataFrame, p: np.ndarray, day: date, policy: Policy, base_rate: float) -> np.ndarray:
    levels = policy.risk_levels
    eligible = (~frame["monitored"].to_numpy()) & (frame["rule_codes"].to_numpy() == "")
    week_start = day - timedelta(days=day.weekday())
    prior = con.sql(
        """SELECT DISTINCT village_code, household_id FROM household_scores
                       WHERE as_of_date >= $w AND as_of_date < $d AND model_warning""",
        params={"w": week_start, "d": day},
    ).pl()
    keys = frame.select("village_code", "household_id")
    earlier = keys.join(
        prior.with_columns(pl.lit(True).alias("_prior")),
        on=["village_code", "household_id"],
        how="left",
        maintain_order="left",
    )["_prior"].fill_null(False)
    return select_warnings(
        keys,
        p,
        eligible,
        capacity=levels.model_capacity_per_village_per_week,
        min_probability=warning_floor(levels.model_warning_min_lift, base_rate),
        by=["village_code"],
        prior=earlier.to_numpy(),
        used=prior.group_by("village_code").agg(pl.len().alias("used")),
    )


def base_rate(card: dict, p: np.ndarray, monitored: np.ndarray) -> float:
    """The share of positives among the labelled rows the model was fitted on (the card); a card without it: the
    mean probability of the households not monitored (what a calibrated model expects)."""
    if card.get("base_rate") is not None:
        return float(card["base_rate"])
    rest = p[~monitored]
    return float(rest.mean()) if rest.size else 0.0


def score_frame(con, frame: pl.DataFrame, day: date, policy: Policy, loaded: LoadedModel | None) -> pl.DataFrame:
    levels, settings = policy.risk_levels, policy.model
    n = frame.height
    severity = frame["severity_max"].fill_null("").to_numpy()
    ruled = frame["rule_codes"].to_numpy() != ""
    top_zh = np.full(n, "", dtype=object)
    explanation = frame["explanation_zh"].to_numpy().astype(object)
    rule_codes = frame["rule_codes"].to_numpy().astype(object)
    risk_types = frame["risk_types"].to_numpy().astype(object)
    if loaded is None:
        p = np.full(n, np.nan)
        warn = np.zeros(n, dtype=bool)
    else:
        X = matrix(frame)
        weight = float(loaded.card.get("negative_weight", 1.0))
        p = predict(loaded.model, X, weight)
        reference = np.asarray(loaded.card["reference"]["median"], float)
        base = base_rate(loaded.card, p, frame["monitored"].to_numpy())
        warn = _model_warnings(con, frame, p, day, policy, base)
        explain = np.flatnonzero((p >= settings.explain_min_probability) | warn)
        phrases, names = describe(
            X[explain],
            contributions(loaded.model, X[explain], reference, p[explain], weight),
            reference,
            settings.top_features,
            feature_phrases(policy),
            p[explain],
        )
        top_zh[explain] = phrases
        where = {int(i): k for k, i in enumerate(explain)}
        for i in np.flatnonzero(warn):
            k = where.get(int(i))
            reasons = phrases[k] if k is not None and phrases[k] else "多项指标综合"
            lift = f"，约为平均水平的 {p[i] / base:.1f} 倍" if base > 0 else ""
            explanation[i] = f"模型预警：{reasons}（概率 {p[i] * 100:.1f}%{lift}）"
            rule_codes[i] = "MODEL"
            types = [] if k is None else sorted({FEATURE_RISK_TYPES.get(f, "其他") for f in names[k]})
            risk_types[i] = ";".join(types) or "其他"
    pv = np.nan_to_num(p, nan=-1.0)
    level = np.where(
        (severity == "高") | (pv >= levels.high_probability),
        "高",
        np.where(ruled | (pv >= levels.medium_probability), "中", "低"),
    )
    return frame.select(
        "as_of_date", "county_code", "township", "village_code", "household_id", "household_type", "monitored"
    ).with_columns(
        pl.Series("probability", p, dtype=pl.Float64).fill_nan(None),
        pl.Series("risk_level", level, dtype=pl.String),
        pl.Series("rule_codes", rule_codes.tolist(), dtype=pl.String),
        pl.Series("risk_types", risk_types.tolist(), dtype=pl.String),
        frame["severity_max"],
        pl.Series("model_warning", warn),
        pl.Series("explanation_zh", explanation.tolist(), dtype=pl.String),
        pl.Series("top_features_zh", top_zh.tolist(), dtype=pl.String),
        pl.lit(loaded.version if loaded else None, dtype=pl.String).alias("model_version"),
    )


def score_households(
    con: duckdb.DuckDBPyConnection,
    day: date,
    policy: Policy | None = None,
    model_dir: Path | str | None = None,
    *,
    loaded: LoadedModel | None = None,
    rules_only: bool = False,
) -> int:
    """Rewrite household_scores for ``day``; returns the rows written. A tampered promoted model raises ArtifactError
    (the daily asset asks artifacts.usable_promoted first and scores ``rules_only`` without a usable model)."""
    policy = (policy or load_policy()).as_of(day)
    ensure_schema(con)
    if loaded is None and not rules_only:
        loaded = load_promoted(Path(model_dir) if model_dir else settings().model_dir)
    frame = _inputs(con, day, policy)
    scores = score_frame(con, frame, day, policy, loaded)
    with registered(con, "md_scores", scores.select(COLUMNS)), transaction(con):
        con.execute("DELETE FROM household_scores WHERE as_of_date = ?", [day]).fetchall()
        con.execute(f"INSERT INTO household_scores SELECT {', '.join(COLUMNS)} FROM md_scores").fetchall()
        keep_scored_day(con, day)
    return scores.height


def feature_matrix(
    con: duckdb.DuckDBPyConnection, day: date, policy: Policy, *, unmonitored_only: bool = True
) -> np.ndarray:
    """Today's features (for the drift check), households not monitored by default (as in training)."""
    return matrix(feature_frame(con, day, policy, unmonitored_only=unmonitored_only))


__all__ = ["score_households", "ensure_schema", "COLUMNS", "FEATURE_NAMES", "feature_matrix"]
