"""The hidden ground truth the tests and the demo's field team read: households, events and persons (parquet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from .history import CATEGORIES, HTYPES, NA, History
from .population import ROLES
from .series import _L, _N, _S, _W, _datecol
from .snapshots import Builder


def write_truth(truth_dir: Path, b: Builder, h: History, end_day: int) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    mon, ident, cat, risk, elim_d = b.monitored_state(end_day)

    def dd(a):
        return _datecol(a, "x")

    det_type = np.where(
        h.det,
        np.array(
            ["illness", "accident", "disaster", "dropout", "housing", "job_loss", "business_failure", "disability"]
        )[np.maximum(h.det_type, 0)],
        None,
    )
    truth = pl.DataFrame(
        {
            "household_id": b.hid,
            "county_code": h.hh["county_code"],
            "village_code": h.hh["village_code"],
            "household_size": h.size,
            "initial_household_type": _L(HTYPES, np.where(h.mon0, 1, h.base_type)),
            "latent_risk": np.round(h.hh["risk"].to_numpy(), 4),
            "monitored_at_start": h.mon0,
            "monitored_since": dd(h.mon0_date),
            "eliminated_before_start": h.elim0_date != NA,
            "deteriorated": h.det,
            "deterioration_date": dd(h.det_date),
            "deterioration_type": _S(det_type, dtype=pl.String),
            "risk_types": _S(np.where(h.det, h.det_risk, np.where(h.mon0, h.mon0_risk, None)), dtype=pl.String),
            "confirmed": h.incl,
            "confirmed_date": dd(h.incl_date),
            "monitoring_category": _N(_L(CATEGORIES, cat), ~mon),
            "recovered": h.rec,
            "recovery_date": dd(h.rec_date),
            "monitored_at_end": mon & (elim_d == NA),
        }
    )
    truth.write_parquet(truth_dir / "households.parquet")
    ev = b.events
    pid = ev["pidx"].to_numpy()
    ev_out = pl.DataFrame(
        {
            "household_id": b.hid[ev["hidx"].to_numpy()],
            "date": dd(ev["day"].to_numpy()),
            "event": ev["event"],
            "id_number": _N(b.ids.gather(np.maximum(pid, 0)), pid < 0),
        }
    ).sort(["date", "household_id", "event"])
    ev_out.write_parquet(truth_dir / "events.parquet")
    ps = h.persons
    pl.DataFrame(
        {
            "id_number": b.ids,
            "household_id": b.hid[h.ph],
            "name": b.names,
            "sex": _W(ps["male"].to_numpy(), "男", "女"),
            "birth_date": dd(ps["birth"].to_numpy()),
            "relation": _L(ROLES, ps["role"].to_numpy()),
            "death_date": dd(h.death),
            "uninsured": h.uninsured,
            "missing_from_student_records": h.student_missing,
        }
    ).write_parquet(truth_dir / "persons.parquet")
