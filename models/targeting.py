"""Which households the county visits, and in what order: the one definition the daily scoring, the training's
evaluation and the deliverables share.

    warn = select_warnings(keys, p, eligible, capacity=5, min_probability=lift * base_rate, by=["village_code"])
    order = priority(severity_rank, p)              # higher first: severity, then the model's probability
    sql = priority_sql("s.severity_max", "s.probability")

Model warnings (模型预警) are chosen by rank, not by an absolute probability: among the households with no rule hit,
the highest probabilities fill each village's weekly capacity, as long as the probability is at least
``model_warning_min_lift`` times the base rate the model was trained on (a household the model rates no likelier than
any other is not worth a visit even when the village has room). A calibrated probability near a 0.6 % base rate almost
never reaches a fixed 30 %, so a fixed threshold leaves the capacity unused; a lift means the same in every county.

Priority (优先级) of a visit task: the severity of its rules first (高, then 中, then none), then the model's
probability. The evaluation measures it against the rules' own order (severity, then the number of rules).
"""

from __future__ import annotations

import numpy as np
import polars as pl

SEVERITY_RANK = {"高": 2, "中": 1}  # no rule: 0


def warning_floor(min_lift: float, base_rate: float) -> float:
    """The least probability a model warning may have: ``min_lift`` times the base rate."""
    return float(min_lift) * float(base_rate)


def select_warnings(
    keys: pl.DataFrame,
    p: np.ndarray,
    eligible: np.ndarray,
    *,
    capacity: int,
    min_probability: float,
    by: list[str],
    prior: np.ndarray | None = None,
    used: pl.DataFrame | None = None,
) -> np.ndarray:
    """Boolean per row of ``keys``: the model warnings. Per group ``by`` (a village, and in the evaluation also the
    date), the ``eligible`` rows with p ≥ ``min_probability`` by highest p, up to ``capacity``. ``prior`` marks rows
    warned earlier in the same week: while still eligible and above the floor they keep their place whatever their
    rank today; ``used`` (``by`` + ``used``) counts
    the places already taken in each group this week (a prior row that is no longer eligible still used its place)."""
    n = keys.height
    candidate = eligible & (np.nan_to_num(p, nan=-1.0) >= min_probability)
    prior = np.zeros(n, dtype=bool) if prior is None else prior
    if not candidate.any():
        return candidate
    f = (
        keys.select(by)
        .with_row_index("_i")
        .with_columns(pl.Series("_p", np.nan_to_num(p, nan=-1.0)), pl.Series("_prior", prior))
        .filter(pl.Series(candidate))
    )
    f = (
        f.join(used, on=by, how="left").with_columns(pl.col("used").fill_null(0))
        if used is not None
        else f.with_columns(pl.lit(0).alias("used"))
    )
    f = f.sort(["_prior", "_p", "_i"], descending=[True, True, False]).with_columns(
        pl.int_range(pl.len()).over([*by, "_prior"]).alias("_rank")
    )
    keep = f.filter(pl.col("_prior") | (pl.col("_rank") < capacity - pl.col("used")))["_i"].to_numpy()
    out = np.zeros(n, dtype=bool)
    out[keep] = True
    return out


def severity_rank(severity: np.ndarray) -> np.ndarray:
    """高 → 2, 中 → 1, anything else (no rule) → 0."""
    s = np.asarray(severity, dtype=object)
    return np.where(s == "高", SEVERITY_RANK["高"], np.where(s == "中", SEVERITY_RANK["中"], 0))


def priority(rank: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Higher visits first: the severity rank, then the probability (in [0, 1]; none counts 0). Twice the rank keeps
    every 高 above every 中 whatever the probabilities."""
    return 2.0 * np.asarray(rank, float) + np.clip(np.nan_to_num(np.asarray(p, float), nan=0.0), 0.0, 1.0)


def severity_rank_sql(severity: str) -> str:
    """The SQL of ``severity_rank`` for a severity column (高/中/NULL)."""
    return f"(CASE {severity} WHEN '高' THEN {SEVERITY_RANK['高']} WHEN '中' THEN {SEVERITY_RANK['中']} ELSE 0 END)"


def priority_sql(rank: str, probability: str) -> str:
    """The SQL of ``priority`` for a severity-rank expression and a probability column (NULL counts 0)."""
    return f"(2.0 * ({rank}) + least(greatest(coalesce({probability}, 0.0), 0.0), 1.0))"
