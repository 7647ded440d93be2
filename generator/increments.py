"""The increment feeds over the whole history (each row with its ``_day``), and the delivery each row goes out in."""

from __future__ import annotations

import numpy as np
import polars as pl

from .series import _L, _S, _W, _datecol
from .snapshots import Builder

LEVELS = ["村卫生室", "乡镇卫生院", "县级", "市级", "省级", "省外"]
VISIT_TYPES = ["普通门诊", "门诊慢特病", "住院"]
CHANNELS = ["线下申请", "12317热线", "一键申报"]
DEC_TYPES = ["确认纳入", "不予纳入", "确认风险消除", "退回重新核实"]


def increment_feeds(b: Builder) -> dict[str, pl.DataFrame]:
    """Every increment feed over the whole history, by contract column name; each row with its ``_day`` and
    ``_county``."""
    c = b.claims
    p = c["pidx"].to_numpy()
    day = c["day"].to_numpy()
    sid = pl.DataFrame({"d": day, "s": c["seq"].to_numpy()}).select(
        pl.concat_str(
            [
                pl.lit("JS"),
                pl.col("d").cast(pl.Int32).cast(pl.Date).dt.strftime("%Y%m%d"),
                pl.col("s").cast(pl.String).str.zfill(9),
            ]
        )
    )[:, 0]
    orig = c["orig_seq"].to_numpy()
    rev = c["reversal"].to_numpy() == 1
    sid_np = sid.to_numpy()
    # map original seq -> sid (seq == row position for originals)
    orig_sid = np.full(len(p), None, dtype=object)
    orig_sid[rev] = sid_np[orig[rev].astype(np.int64)]

    def f(a):
        return np.round(a / 100.0, 2)

    out = {}
    out["medical_claims"] = pl.DataFrame(
        {
            "settlement_id": sid_np,
            "original_settlement_id": _S(orig_sid, dtype=pl.String),
            "settlement_type": _W(rev, "冲销", "正常"),
            "id_number": b.ids[p],
            "name": b.names[p],
            "settlement_date": _datecol(day, "d"),
            "visit_type": _L(VISIT_TYPES, c["visit_type"].to_numpy()),
            "facility_level": _L(LEVELS, c["level"].to_numpy()),
            "total_cost": f(c["total"].to_numpy()),
            "basic_insurance_paid": f(c["basic"].to_numpy()),
            "critical_insurance_paid": f(c["crit"].to_numpy()),
            "medical_aid_paid": f(c["aid"].to_numpy()),
            "personal_burden": f(c["personal"].to_numpy()),
            "compliant_self_paid": f(c["compliant"].to_numpy()),
            "_county": b.p_county[p],
            "_day": day,
        }
    )
    e = b.econ
    p = e["pidx"].to_numpy()
    out["econ_check"] = pl.DataFrame(
        {
            "id_number": b.ids[p],
            "check_date": _datecol(e["day"].to_numpy(), "d"),
            "vehicles": e["vehicles"].to_numpy(),
            "commodity_houses": e["houses"].to_numpy(),
            "businesses": e["business"].to_numpy(),
            "public_employee": e["public"].to_numpy(),
            "financial_assets": e["assets"].to_numpy(),
            "_county": b.p_county[p],
            "_day": e["day"].to_numpy(),
        }
    )
    a = b.apps
    hx = a["hidx"].to_numpy()
    p = a["pidx"].to_numpy()
    out["applications"] = pl.DataFrame(
        {
            "application_id": pl.DataFrame(
                {"d": a["day"].to_numpy(), "s": a["seq"].to_numpy(), "c": b.h_county[hx]}
            ).select(
                pl.concat_str(
                    [
                        pl.lit("SQ"),
                        pl.col("c"),
                        pl.col("d").cast(pl.Int32).cast(pl.Date).dt.strftime("%Y%m%d"),
                        pl.col("s").cast(pl.String).str.zfill(6),
                    ]
                )
            )[:, 0],
            "application_date": _datecol(a["day"].to_numpy(), "d"),
            "channel": _L(CHANNELS, a["channel"].to_numpy()),
            "head_id_number": b.ids[p],
            "applicant_name": b.names[p],
            "village_code": b.vcode[hx],
            "reason": a["reason"].to_numpy(),
            "details": _S(np.where(a["details"].to_numpy() == "", None, a["details"].to_numpy()), dtype=pl.String),
            "_county": b.h_county[hx],
            "_day": a["day"].to_numpy(),
        }
    )
    v = b.visits
    hx = v["hidx"].to_numpy()
    kind = v["kind"].to_numpy()
    out["visit_results"] = pl.DataFrame(
        {
            "task_id": _S([None] * len(hx), dtype=pl.String),
            "household_id": b.hid[hx],
            "visit_date": _datecol(v["day"].to_numpy(), "d"),
            "visitor": v["visitor"].to_numpy(),
            "verified_income_per_capita": v["verified_pc"].to_numpy(),
            "verified_out_of_pocket": v["verified_oop"].to_numpy(),
            "education_secured": v["edu"].to_numpy(),
            "medical_secured": v["med"].to_numpy(),
            "housing_secured": v["house"].to_numpy(),
            "water_secured": v["water"].to_numpy(),
            "risk_types": _S(np.where(v["risk"].to_numpy() == "", None, v["risk"].to_numpy()), dtype=pl.String),
            "conclusion": _W(kind == 0, "建议纳入", "建议风险消除"),
            "details": _W(kind == 0, "入户核实，情况属实", "收入稳定，风险已消除"),
            "_county": b.h_county[hx],
            "_day": v["day"].to_numpy(),
        }
    )
    pb = b.pubs
    hx = pb["hidx"].to_numpy()
    obj = pb["objection"].to_numpy()
    out["publication_results"] = pl.DataFrame(
        {
            "batch_id": pb["batch"].to_numpy(),
            "household_id": b.hid[hx],
            "review_result": np.full(len(hx), "同意"),
            "start_date": _datecol(pb["start"].to_numpy(), "s"),
            "end_date": _datecol(pb["end"].to_numpy(), "e"),
            "objection": obj,
            "objection_conclusion": _S(np.where(obj, "异议不成立", None), dtype=pl.String),
            "_county": b.h_county[hx],
            "_day": pb["day"].to_numpy(),
        }
    )
    dc = b.decisions
    hx = dc["hidx"].to_numpy()
    cnames = b.hh["county_name"].to_numpy()[hx]
    out["county_decisions"] = pl.DataFrame(
        {
            "household_id": b.hid[hx],
            "decision_type": _L(DEC_TYPES, dc["type"].to_numpy()),
            "monitoring_category": dc["cat"],
            "risk_types": dc["risk"],
            "decision_date": _datecol(dc["day"].to_numpy(), "d"),
            "decision_unit": np.char.add(cnames.astype(str), "乡村振兴局"),
            "details": _W(dc["type"].to_numpy() == 0, "经审核，确认纳入监测对象", "经审核，确认风险消除"),
            "_county": b.h_county[hx],
            "_day": dc["day"].to_numpy(),
        }
    )
    return out


def assign_deliveries(df: pl.DataFrame, days: np.ndarray, rng) -> pl.DataFrame:
    """Delivery index per event row (late ~2%, re-sent ~1% as a second copy in the next delivery)."""
    d = df["_day"].to_numpy()
    di = np.searchsorted(days, d, side="left")
    late = rng.random(len(d)) < 0.02
    di = np.where(late & (di + 1 < len(days)), di + 1, di)
    out = df.with_columns(pl.Series("_di", di))
    rs = np.flatnonzero((rng.random(len(d)) < 0.01) & (di + 1 < len(days)))
    if len(rs):
        out = pl.concat([out, df[rs].with_columns(pl.Series("_di", di[rs] + 1))])
    return out.filter(pl.col("_di") < len(days))
