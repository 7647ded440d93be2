"""Feature drift: today's feature distributions (households not monitored) against the promoted model's training
data, by population stability index (PSI); features above ``model.drift_psi_warn`` are named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from fangfanpin.config.policy import Policy
from fangfanpin.models.artifacts import usable_promoted
from fangfanpin.models.evaluation import psi
from fangfanpin.models.features import FEATURE_LABELS_ZH
from fangfanpin.models.scoring import feature_matrix


def drift_report(con: duckdb.DuckDBPyConnection, day: date, policy: Policy, model_dir: Path | str) -> dict:
    """Nothing to compare with no promoted model, or one that scoring refused too (``unusable`` says why)."""
    loaded, unusable = usable_promoted(Path(model_dir))
    if loaded is None:
        return {
            "version": None,
            "moved": [],
            "table": [],
            "note": unusable or "no promoted model",
            "unusable": unusable,
        }
    card = loaded.card
    X = feature_matrix(con, day, policy)
    if X.shape[0] == 0:
        return {"version": loaded.version, "moved": [], "table": [], "note": "no households", "unusable": None}
    values = psi(card["reference"]["bins"], X)
    names = card["features"]
    table = sorted(
        ((f"{FEATURE_LABELS_ZH.get(n, n)}（{n}）", round(float(v), 3)) for n, v in zip(names, values)),
        key=lambda r: -r[1],
    )
    moved = [label for label, v in table if v > policy.model.drift_psi_warn]
    return {"version": loaded.version, "moved": moved, "table": table, "note": "", "unusable": None}
