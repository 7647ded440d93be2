"""Rolling-origin backtest: the production configuration measured on several validation windows, not one.

    result = rolling_origin(ts, windows=3, fit_predict=..., measure=...)

Each of the newest ``windows`` labelled month-end dates is a window of its own: a model of the chosen kind is fitted
on every earlier date (at least two) and the window is measured as the card's validation window is (``measure``).
The card reports each window and the mean and spread (standard deviation, lowest, highest) of the recall gain.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fangfanpin.models.dataset import TrainingSet


def rolling_origin(
    ts: TrainingSet,
    windows: int,
    fit_predict: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, float]],
    measure: Callable[[np.ndarray, np.ndarray, float, np.ndarray], dict],
) -> dict:
    """``fit_predict(train_mask, window_mask)`` → (probabilities of the window, base rate of the training rows);
    ``measure(window_mask, probability, base_rate, y)`` → {rules_alone, production, ...} of the window."""
    dates = ts.frame["as_of_date"].to_numpy()
    out = []
    for day in ts.dates[max(2, len(ts.dates) - windows) :]:
        window, train = dates == np.datetime64(day), dates < np.datetime64(day)
        if ts.y[train].sum() == 0 or ts.y[window].sum() == 0:
            continue
        probability, base = fit_predict(train, window)
        m = measure(window, probability, base, ts.y[window])
        rules, prod = m["rules_alone"], m["production"]
        out.append(
            {
                "date": str(day),
                "train_dates": int(len({d for d in ts.dates if d < day})),
                "positives": int(ts.y[window].sum()),
                "rules_recall": rules["recall"],
                "production_recall": prod["recall"],
                "recall_gain": round(prod["recall"] - rules["recall"], 4),
                "extra_visits": round(prod["workload"] / rules["workload"] - 1, 4) if rules["workload"] else None,
                "roc_auc": m.get("roc_auc"),
            }
        )
    gains = np.array([w["recall_gain"] for w in out], float)
    summary = (
        {
            "mean": round(float(gains.mean()), 4),
            "std": round(float(gains.std(ddof=1)), 4) if gains.size > 1 else 0.0,
            "min": round(float(gains.min()), 4),
            "max": round(float(gains.max()), 4),
        }
        if gains.size
        else {"mean": None, "std": None, "min": None, "max": None}
    )
    return {"windows": out, "recall_gain": summary}
