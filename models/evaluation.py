"""Evaluation on a validation window: ranking metrics, precision/recall at the villages' visit capacity, the same
figures for the rules alone, calibration bins, and the drift measure (PSI).

Workload definitions (per feature date, per village, among households not monitored on that date):
- rules alone: every household with a rule hit;
- model at equal workload: in each village the model's top-n, n = the number of rule-flagged households there;
- at capacity: in each village at most K = the weekly visit capacity; the rules pick 高-severity first, then more
  rules; the model picks the highest probabilities;
- production: what the daily run visits: every rule hit plus the model warnings (models.targeting), each feature
  date counted as one week.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from fangfanpin.models.targeting import select_warnings


def rule_flags(con: duckdb.DuckDBPyConnection, dates: list[date]) -> pl.DataFrame:
    """as_of_date, household_id, rule_high (0/1), rule_count for every household with a rule hit on the dates."""
    return con.sql(
        """SELECT as_of_date, household_id, max((severity = '高')::INT) AS rule_high, count(*) AS rule_count
                      FROM rule_hits WHERE as_of_date IN (SELECT unnest($dates::DATE[])) GROUP BY ALL""",
        params={"dates": list(dates)},
    ).pl()


def truth_labels(truth_dir, frame: pl.DataFrame, horizon_days: int) -> np.ndarray:
    """The generator's ground truth per row of ``frame`` (as_of_date, household_id): the household really
    deteriorated by the end of the horizon and was not yet confirmed on the feature date. Evaluation only."""
    truth = pl.read_parquet(
        Path(truth_dir) / "households.parquet",
        columns=["household_id", "deteriorated", "deterioration_date", "confirmed_date"],
    )
    joined = frame.select("as_of_date", "household_id").join(truth, on="household_id", how="left")
    end = pl.col("as_of_date") + pl.duration(days=horizon_days)
    positive = (
        pl.col("deteriorated").fill_null(False)
        & (pl.col("deterioration_date") <= end)
        & (pl.col("deterioration_date") > pl.col("as_of_date") - pl.duration(days=365))
        & (pl.col("confirmed_date").is_null() | (pl.col("confirmed_date") > pl.col("as_of_date")))
    )
    return joined.select(positive.fill_null(False)).to_series().to_numpy().astype(np.int8)


def _top_per_village(frame: pl.DataFrame, order: list[str], limit: pl.Expr) -> np.ndarray:
    """Boolean selection: per (as_of_date, village_code), the first ``limit`` rows by ``order`` (descending)."""
    ranked = (
        frame.with_row_index("_i")
        .sort(order, descending=True)
        .with_columns(pl.int_range(pl.len()).over(["as_of_date", "village_code"]).alias("_rank"))
    )
    chosen = ranked.filter(pl.col("_rank") < limit)["_i"].to_numpy()
    out = np.zeros(frame.height, dtype=bool)
    out[chosen] = True
    return out


def _pr(selected: np.ndarray, y: np.ndarray) -> dict:
    hits = int((selected & (y == 1)).sum())
    n = int(selected.sum())
    return {
        "workload": n,
        "true_positives": hits,
        "precision": round(hits / n, 4) if n else 0.0,
        "recall": round(hits / int(y.sum()), 4) if y.sum() else 0.0,
    }


def flagged(frame: pl.DataFrame, probability: np.ndarray, flags: pl.DataFrame) -> pl.DataFrame:
    """The window's rows (as_of_date, village_code, household_id, township, household_type) with the probability
    ``p`` and the rules' flags: rule_high 1/0 (-1 without a rule), rule_count (0 without a rule)."""
    return (
        frame.select("as_of_date", "village_code", "household_id", "township", "household_type")
        .with_columns(pl.Series("p", probability, dtype=pl.Float64))
        .join(flags, on=["as_of_date", "household_id"], how="left", maintain_order="left")
        .with_columns(pl.col("rule_high").fill_null(-1), pl.col("rule_count").fill_null(0))
    )


def production(f: pl.DataFrame, capacity: int, min_probability: float) -> tuple[np.ndarray, np.ndarray]:
    """(rule hits, model warnings) as the daily run selects them, each feature date counted as one week: every
    household with a rule hit, and per village the model warnings of models.targeting.select_warnings."""
    ruled = (f["rule_count"] > 0).to_numpy()
    warn = select_warnings(
        f,
        f["p"].to_numpy(),
        ~ruled,
        capacity=capacity,
        min_probability=min_probability,
        by=["as_of_date", "village_code"],
    )
    return ruled, warn


def workload_metrics(
    f: pl.DataFrame, y: np.ndarray, capacity: int, min_probability: float
) -> tuple[dict, dict[str, np.ndarray]]:
    """Precision and recall of the rules and the model at equal workload and at the weekly capacity, and of the
    production configuration (rules + model warnings); ``f`` from ``flagged``. Also the selections themselves
    (rules_alone, model_equal_workload, production, warnings: boolean per row)."""
    ruled, warn = production(f, capacity, min_probability)
    n_rules = f.group_by("as_of_date", "village_code").agg(pl.col("rule_count").gt(0).sum().alias("_n"))
    f2 = f.join(n_rules, on=["as_of_date", "village_code"], how="left", maintain_order="left")
    model_equal = _top_per_village(f2, ["p"], pl.col("_n"))
    rules_cap = (
        _top_per_village(
            f.with_columns(pl.col("p").alias("_tie")), ["rule_high", "rule_count", "_tie"], pl.lit(capacity)
        )
        & ruled
    )
    model_cap = _top_per_village(f, ["p"], pl.lit(capacity))
    return {
        "rules_alone": _pr(ruled, y),
        "model_equal_workload": _pr(model_equal, y),
        "rules_at_capacity": _pr(rules_cap, y),
        "model_at_capacity": _pr(model_cap, y),
        "production": _pr(ruled | warn, y)
        | {"model_warnings": int(warn.sum()), "min_probability": round(float(min_probability), 6)},
    }, {"rules_alone": ruled, "model_equal_workload": model_equal, "production": ruled | warn, "warnings": warn}


def ranking_metrics(score: np.ndarray, y: np.ndarray, *, probability: bool = True) -> dict:
    if y.size == 0 or y.min() == y.max():
        return {"roc_auc": None, "pr_auc": None, "brier": None, "base_rate": float(y.mean()) if y.size else None}
    return {
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "pr_auc": round(float(average_precision_score(y, score)), 4),
        "brier": round(float(brier_score_loss(y, score)), 5) if probability else None,
        "base_rate": round(float(y.mean()), 5),
    }


def rules_ranking(frame: pl.DataFrame, flags: pl.DataFrame) -> np.ndarray:
    """The rules as a score (高 hit 2 + rule count / 100, 中 hit 1, none 0), for the rules' ROC-AUC and PR-AUC."""
    f = frame.select("as_of_date", "household_id").join(flags, on=["as_of_date", "household_id"], how="left")
    high, count = f["rule_high"].fill_null(-1).to_numpy(), f["rule_count"].fill_null(0).to_numpy()
    return np.where(count > 0, 1 + high + np.minimum(count, 99) / 100, 0.0).astype(np.float64)


def calibration_bins(probability: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Reliability: equal-count bins of predicted probability, mean predicted vs observed rate."""
    if probability.size == 0:
        return []
    order = np.argsort(probability, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if chunk.size:
            out.append(
                {
                    "n": int(chunk.size),
                    "predicted": round(float(probability[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                }
            )
    return out


# --- drift -----------------------------------------------------------------------------------------------------


def reference_bins(X: np.ndarray, bins: int = 10) -> list[dict]:
    """Per feature: quantile edges and the share of training rows per bin (NaN is a bin of its own)."""
    out = []
    for j in range(X.shape[1]):
        col = X[:, j]
        finite = col[~np.isnan(col)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if finite.size else np.array([])
        out.append(
            {"edges": [float(f"{e:.6g}") for e in edges], "shares": [round(float(s), 6) for s in _shares(col, edges)]}
        )
    return out


def _shares(col: np.ndarray, edges: np.ndarray) -> np.ndarray:
    nan = np.isnan(col)
    counts = np.bincount(np.searchsorted(edges, col[~nan], side="right"), minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, nan.sum())
    return counts / max(col.size, 1)


def psi(reference: list[dict], X: np.ndarray) -> np.ndarray:
    """Population stability index of each feature of ``X`` against the training reference."""
    values = np.zeros(len(reference))
    for j, ref in enumerate(reference):
        expected = np.asarray(ref["shares"], float)
        actual = _shares(X[:, j], np.asarray(ref["edges"], float))
        e, a = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
        values[j] = float(np.sum((a - e) * np.log(a / e)))
    return values
