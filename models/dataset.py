"""Training data without leakage: month-end feature dates, point-in-time features, labels from later deliveries.

- feature dates: per calendar month, the newest applied roster delivery in that month; only dates whose label window
  (date, date + horizon] has closed by the newest delivery are labelled;
- features: ``household_indicators`` of that date (backfilled with the cross-check if missing: it reads only
  ``<feed>_asof(date)``, so a backfill is as-of that date), households monitored on that date left out;
- label: confirmed as a monitoring object within the horizon: a county decision 确认纳入 dated in the window, or the
  newest roster's 风险识别时间 in the window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from fangfanpin.config.policy import Policy
from fangfanpin.crosscheck import ensure_schema, run_crosscheck
from fangfanpin.models.features import FEATURE_NAMES, check_no_future, feature_params, feature_select, matrix


def newest_delivery(con: duckdb.DuckDBPyConnection) -> date | None:
    rows = con.execute(
        "SELECT max(delivery_date) FROM deliveries WHERE status IN ('applied', 'accepted', 'partial')"
    ).fetchall()
    return rows[0][0] if rows else None


def month_end_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Per calendar month, the newest date with an applied roster snapshot (the month's last full delivery)."""
    rows = con.execute("""SELECT max(delivery_date) FROM snapshot_versions WHERE feed = 'roster'
                          AND status IN ('applied', 'accepted') GROUP BY date_trunc('month', delivery_date)
                          ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def labelled_dates(con: duckdb.DuckDBPyConnection, horizon_days: int, months: int) -> list[date]:
    """The newest ``months`` month-end dates whose label window has closed."""
    newest = newest_delivery(con)
    if newest is None:
        return []
    closed = [d for d in month_end_dates(con) if d + timedelta(days=horizon_days) <= newest]
    return closed[-months:]


def backfill_indicators(con: duckdb.DuckDBPyConnection, dates: list[date], policy: Policy) -> list[date]:
    """Run the cross-check for every date missing from household_indicators; returns the dates it ran."""
    ensure_schema(con)
    have = {r[0] for r in con.execute("SELECT DISTINCT as_of_date FROM household_indicators").fetchall()}
    ran = []
    for day in dates:
        if day not in have:
            run_crosscheck(con, day, policy)
            ran.append(day)
    return ran


def _confirmations(con: duckdb.DuckDBPyConnection, newest: date) -> None:
    """Temp table md_confirmations(household_id, day): every known confirmation (decisions and the newest roster)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE md_confirmations AS
        SELECT DISTINCT household_id, decision_date AS day FROM county_decisions_asof(?::DATE)
        WHERE decision_type = '确认纳入' AND decision_date IS NOT NULL
        UNION
        SELECT DISTINCT household_id, risk_identified_date FROM roster_asof(?::DATE)
        WHERE risk_identified_date IS NOT NULL""",
        [newest, newest],
    ).fetchall()


@dataclass
class TrainingSet:
    dates: list[date]
    frame: pl.DataFrame  # as_of_date, village_code, household_id, label, f_<feature>...
    X: np.ndarray
    y: np.ndarray
    fingerprint: str  # sha256 over the rows' dates, household ids (hashed), labels and features

    @property
    def positives(self) -> int:
        return int(self.y.sum())


def feature_frame(con: duckdb.DuckDBPyConnection, day: date, policy: Policy, *, unmonitored_only: bool) -> pl.DataFrame:
    where = "AND NOT coalesce(h.monitored, false)" if unmonitored_only else ""
    return con.sql(
        f"""SELECT h.as_of_date, h.county_code, h.township, h.village_code, h.household_id,
                              h.household_type, coalesce(h.monitored, false) AS monitored, {feature_select()}
                       FROM household_indicators h WHERE h.as_of_date = $d {where}
                       ORDER BY h.household_id""",
        params={"d": day} | feature_params(day, policy),
    ).pl()


def build_training_set(
    con: duckdb.DuckDBPyConnection, policy: Policy, dates: list[date] | None = None, *, backfill: bool = True
) -> TrainingSet:
    settings = policy.model
    dates = dates if dates is not None else labelled_dates(con, settings.horizon_days, settings.training_months)
    if backfill:
        backfill_indicators(con, dates, policy)
    check_no_future(con, dates)
    newest = newest_delivery(con)
    _confirmations(con, newest)
    frames = []
    for day in dates:
        features = feature_frame(con, day, policy, unmonitored_only=True)
        labels = con.sql(
            """SELECT DISTINCT household_id, true AS label FROM md_confirmations
                            WHERE day > $d AND day <= $d + $h::INT""",
            params={"d": day, "h": settings.horizon_days},
        ).pl()
        frames.append(
            features.join(labels, on="household_id", how="left").with_columns(pl.col("label").fill_null(False))
        )
    frame = pl.concat(frames) if frames else pl.DataFrame()
    if frame.is_empty():
        return TrainingSet(dates, frame, np.empty((0, len(FEATURE_NAMES))), np.empty(0, dtype=np.int8), "")
    X, y = matrix(frame), frame["label"].to_numpy().astype(np.int8)
    return TrainingSet(dates, frame, X, y, fingerprint(frame, X, y))


def fingerprint(frame: pl.DataFrame, X: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(frame["as_of_date"].cast(pl.Int32).to_numpy().tobytes())
    digest.update(frame["household_id"].hash(seed=0).to_numpy().tobytes())
    digest.update(
        np.ascontiguousarray(np.round(np.nan_to_num(X, nan=-9e9), 6) + 0.0).tobytes()
    )  # parallel sums vary in the last bits
    digest.update(y.tobytes())
    return digest.hexdigest()
