"""Feature drift: today's feature distributions (households not monitored) against the promoted model's training
data, by population stability index (PSI); features above ``model.drift_psi_warn`` are named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from config.policy import Policy
from models.artifacts import load_card, promoted_version
from models.evaluation import psi
from models.features import FEATURE_LABELS_ZH
from models.scoring import feature_matrix


def drift_report(con: duckdb.DuckDBPyConnection, day: date, policy: Policy, model_dir: Path | str) -> dict:
    pointer = promoted_version(Path(model_dir))
    if pointer is None:
        return {"version": None, "moved": [], "table": [], "note": "no promoted model"}
    card = load_card(Path(model_dir), pointer["version"])
    X = feature_matrix(con, day, policy)
    if X.shape[0] == 0:
        return {"version": pointer["version"], "moved": [], "table": [], "note": "no households"}
    values = psi(card["reference"]["bins"], X)
    names = card["features"]
    table = sorted(((f"{FEATURE_LABELS_ZH.get(n, n)}（{n}）", round(float(v), 3)) for n, v in zip(names, values)),
                   key=lambda r: -r[1])
    moved = [label for label, v in table if v > policy.model.drift_psi_warn]
    return {"version": pointer["version"], "moved": moved, "table": table, "note": ""}
