"""What the county gets from the model on a labelled window: the production configuration against the rules alone,
with the uncertainty of a window that holds few positives, the order a village works its list in, and the recall of
each township and household type.

    gain = recall_difference(households, y, production, rules)     # point, 95 % interval, resampling households
    first = first_k(f, production, y)                              # recall within the first k tasks of each village
    groups = by_group(f, y, selections, "household_type")

The interval is a percentile bootstrap over households (a household appears once per feature date: its rows move
together), with a fixed seed, so the same window gives the same interval.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from fangfanpin.models.targeting import SEVERITY_RANK, priority

FIRST_K = (1, 3, 5)
RESAMPLES = 1000
SEED = 0
HOUSEHOLD_TYPES_ZH = {"脱贫户": "脱贫户", "一般农户": "一般农户", "监测户": "曾为监测户（风险已消除）"}


def recall_difference(
    households: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> dict:
    """Recall of selection ``a`` minus recall of ``b`` (boolean per row), and its 95 % percentile interval with
    households resampled with replacement ``resamples`` times."""
    _, inverse = np.unique(households, return_inverse=True)
    n = int(inverse.max()) + 1 if inverse.size else 0
    pos = np.bincount(inverse, weights=y, minlength=n)
    gain = np.bincount(inverse, weights=y * (a.astype(int) - b.astype(int)), minlength=n)
    point = float(gain.sum() / pos.sum()) if pos.sum() else 0.0
    if n == 0 or pos.sum() == 0:
        return {"difference": round(point, 4), "ci95": [None, None], "resamples": 0, "seed": seed}
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        p = pos[idx].sum(axis=1)
        out[start : start + len(idx)] = np.divide(gain[idx].sum(axis=1), p, out=np.zeros(len(idx)), where=p > 0)
    lo, hi = np.percentile(out, [2.5, 97.5])
    return {"difference": round(point, 4), "ci95": [round(float(lo), 4), round(float(hi), 4)], "resamples": resamples}


def orders(f: pl.DataFrame) -> dict[str, np.ndarray]:
    """Sort keys (higher first) of the task orders compared: the rules' own order (高 first, then more rules; model
    warnings last), the priority (models.targeting.priority) and the model's probability alone."""
    high, count, p = f["rule_high"].to_numpy(), f["rule_count"].to_numpy(), f["p"].to_numpy()
    rank = np.where(high == 1, SEVERITY_RANK["高"], np.where(high == 0, SEVERITY_RANK["中"], 0))
    return {
        "rules_order": rank * 1000.0 + np.minimum(count, 999),
        "priority_order": priority(rank, p),
        "probability_order": np.nan_to_num(p, nan=0.0),
    }


def first_k(f: pl.DataFrame, selected: np.ndarray, y: np.ndarray, ks=FIRST_K) -> dict:
    """Per order: the recall within the first k selected tasks of each village and feature date (ties by household
    id), for each k; the denominator is every positive of the window."""
    total = int(y.sum())
    out = {}
    for name, key in orders(f).items():
        ranked = (
            f.select("as_of_date", "village_code", "household_id")
            .with_columns(pl.Series("_key", key), pl.Series("_y", y), pl.Series("_sel", selected))
            .filter(pl.col("_sel"))
            .sort(["_key", "household_id"], descending=[True, False])
            .with_columns(pl.int_range(pl.len()).over(["as_of_date", "village_code"]).alias("_rank"))
        )
        out[name] = {
            str(k): round(int(ranked.filter(pl.col("_rank") < k)["_y"].sum()) / total, 4) if total else 0.0 for k in ks
        }
    return out


def by_group(f: pl.DataFrame, y: np.ndarray, selections: dict[str, np.ndarray], column: str) -> dict:
    """Per value of ``column`` (township, household_type): rows, positives and each selection's recall."""
    g = f.select(pl.col(column).fill_null("（未知）").alias("_g")).with_columns(
        pl.Series("_y", y), *[pl.Series(k, v & (y == 1)) for k, v in selections.items()]
    )
    agg = (
        g.group_by("_g")
        .agg(pl.len().alias("rows"), pl.col("_y").sum().alias("positives"), *[pl.col(k).sum() for k in selections])
        .sort("_g")
    )
    return {
        r["_g"]: {"rows": r["rows"], "positives": r["positives"]}
        | {k: round(r[k] / r["positives"], 4) if r["positives"] else None for k in selections}
        for r in agg.iter_rows(named=True)
    }


def fair_by_type(groups: dict, share: float, min_positives: int) -> tuple[bool, list[str]]:
    """The model's recall at the rules' workload is at least ``share`` of the rules' recall in every household type
    with at least ``min_positives`` positives; the types that fall short."""
    short = [
        t
        for t, r in groups.items()
        if r["positives"] >= min_positives and (r["model_equal_workload"] or 0) < share * (r["rules_alone"] or 0)
    ]
    return not short, short


__all__ = ["recall_difference", "first_k", "by_group", "fair_by_type", "HOUSEHOLD_TYPES_ZH"]
