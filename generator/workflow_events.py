"""The identification workflow's records, derived from the hidden history: applications, visits, publication
results, county decisions, economic checks, and the truth's list of events. Drawn from ``h.rng`` after the
department records of ``generator.events``, in the order ``snapshots.Builder`` calls them."""

from __future__ import annotations

import numpy as np
import polars as pl

from .events import REASON_TEXT, _pick, _u, random_names
from .history import CATEGORIES, NA, RISK_OF, History


def workflow(h: History):
    """applications, visits, publications, decisions, econ checks, truth events."""
    rng = h.rng
    H = h.H
    ws, end = h.ws, h.end
    span = max(end - ws, 1)
    base = np.maximum(h.det_date, ws)
    # applications
    app = h.det & (rng.random(H) < np.where(h.incl, 0.5, 0.25))
    ad = base + _u(rng, H, 3, 20)
    ad = np.where(h.incl, np.minimum(ad, h.incl_date - 18), ad)
    ad = np.maximum(ad, ws)
    app = app & (ad <= end)
    noise = ~h.det & (rng.random(H) < 0.004 * span / 365)
    nd = ws + _u(rng, H, 0, span)
    a_h = np.concatenate([np.flatnonzero(app), np.flatnonzero(noise)])
    a_d = np.concatenate([ad[app], nd[noise]])
    risk_key = np.concatenate(
        [
            h.det_risk[app],
            np.array(["因病", "因务工就业不稳", "其他", "因学", "住房出现安全问题"], dtype=object)[
                rng.integers(0, 5, int(noise.sum()))
            ],
        ]
    )
    reason = _pick(rng, REASON_TEXT, risk_key)
    multi = rng.random(len(a_h)) < 0.15
    reason = np.where(
        multi,
        np.char.add(
            reason.astype(str), np.array(["、缺劳动力", ",因学", ";因病", " 房屋漏雨"])[rng.integers(0, 4, len(a_h))]
        ),
        reason.astype(str),
    )
    who = np.where(rng.random(len(a_h)) < 0.15, np.minimum(1, h.size[a_h] - 1), 0)
    order = np.lexsort((a_h, a_d))
    a_h, a_d, reason, who = a_h[order], a_d[order], reason[order], who[order]
    apps = pl.DataFrame(
        {
            "hidx": a_h,
            "day": a_d,
            "pidx": h.offs[a_h] + who,
            "reason": reason,
            "channel": rng.choice(3, len(a_h), p=[0.5, 0.2, 0.3]),
            "details": np.array(["入户了解情况属实", "申请人自述", "村委会代为提交", ""])[rng.integers(0, 4, len(a_h))],
        }
    ).with_row_index("seq")
    # visits before inclusion and recovery
    inc = np.flatnonzero(h.incl)
    rec = np.flatnonzero(h.rec)
    vi_d = h.incl_date[inc] - _u(rng, len(inc), 10, 16)
    vr_d = h.rec_date[rec] - _u(rng, len(rec), 7, 14)
    latest = h.income(h.latest_survey_year)["pc"]
    v_h = np.concatenate([inc, rec])
    v_d = np.maximum(np.concatenate([vi_d, vr_d]), ws)
    kind = np.concatenate([np.zeros(len(inc), np.int64), np.ones(len(rec), np.int64)])
    dtp = h.det_type[v_h]
    ver = np.where(
        kind == 0,
        latest[v_h] * rng.uniform(0.5, 0.9, len(v_h)),
        np.maximum(latest[v_h], 9500) * rng.uniform(1.1, 1.4, len(v_h)),
    )
    oop = np.where((kind == 0) & (dtp == 0), rng.uniform(5000, 30000, len(v_h)), rng.uniform(0, 2000, len(v_h)))
    risk_txt = np.where(kind == 0, h.det_risk[v_h], None)
    risk_txt = np.where(risk_txt == None, "", risk_txt).astype(str)  # noqa: E711
    visits = pl.DataFrame(
        {
            "hidx": v_h,
            "day": v_d,
            "kind": kind,
            "verified_pc": np.round(ver, 2),
            "verified_oop": np.round(oop, 2),
            "edu": ~((kind == 0) & (dtp == 3)),
            "med": np.ones(len(v_h), bool),
            "house": ~((kind == 0) & (dtp == 4)),
            "water": np.ones(len(v_h), bool),
            "risk": risk_txt,
            "visitor": random_names(rng, len(v_h)),
            "task": np.where(rng.random(len(v_h)) < 0.3, "", ""),
        }
    )
    # publications
    pe = h.incl_date[inc] - _u(rng, len(inc), 1, 3)
    ps = pe - 5
    obj = rng.random(len(inc)) < 0.03
    pubs = pl.DataFrame({"hidx": inc, "start": ps, "end": pe, "day": pe, "objection": obj})
    pubs = pubs.with_columns(
        pl.concat_str(
            [
                pl.lit("GS"),
                h.hh["village_code"].gather(inc).str.slice(0, 9),
                pl.col("start").cast(pl.Date).dt.strftime("%Y%m%d"),
            ]
        ).alias("batch")
    )
    # decisions
    d_h = np.concatenate([inc, rec])
    d_d = np.concatenate([h.incl_date[inc], h.rec_date[rec]])
    d_t = np.concatenate([np.zeros(len(inc), np.int64), np.full(len(rec), 2)])
    d_cat = np.concatenate([np.asarray(CATEGORIES, dtype=object)[h.incl_cat[inc]], np.full(len(rec), None)])
    rk = np.where(h.incl[rec], h.det_risk[rec], h.mon0_risk[rec])
    d_risk = np.concatenate([h.det_risk[inc], rk])
    decisions = pl.DataFrame(
        {
            "hidx": d_h,
            "day": d_d,
            "type": d_t,
            "cat": pl.Series(d_cat.tolist(), dtype=pl.String),
            "risk": pl.Series(d_risk.tolist(), dtype=pl.String),
        }
    )
    # econ checks: all members of applying / included households, plus background reviews
    c_h = np.concatenate([a_h, inc, np.flatnonzero(rng.random(H) < 0.005 * max(span / 30, 1))])
    c_d = np.concatenate(
        [
            a_d + _u(rng, len(a_h), 2, 10),
            vi_d + _u(rng, len(inc), 0, 3),
            ws + _u(rng, len(c_h) - len(a_h) - len(inc), 0, span),
        ]
    )
    ok = c_d <= end
    c_h, c_d = c_h[ok], c_d[ok]
    sz = h.size[c_h]
    cp = np.repeat(h.offs[c_h], sz) + (np.arange(sz.sum()) - np.repeat((np.cumsum(sz) - sz), sz))
    cd = np.repeat(c_d, sz)
    n = len(cp)
    econ = pl.DataFrame(
        {
            "pidx": cp,
            "day": cd,
            "vehicles": np.where(rng.random(n) < 0.1, 1, 0) + np.where(rng.random(n) < 0.01, 1, 0),
            "houses": np.where(rng.random(n) < 0.03, 1, 0),
            "business": np.where(rng.random(n) < 0.02, 1, 0),
            "public": rng.random(n) < 0.005,
            "assets": np.round(np.where(rng.random(n) < 0.6, 0, rng.exponential(12000, n)), 2),
        }
    ).unique(subset=["pidx", "day"], keep="first", maintain_order=True)
    # truth events
    ev = []

    def add(hidx, day, event, pidx=None):
        hidx = np.asarray(hidx, np.int64)
        ev.append(
            pl.DataFrame(
                {
                    "hidx": hidx,
                    "day": np.asarray(day, np.int64),
                    "event": np.full(len(hidx), event),
                    "pidx": np.full(len(hidx), -1) if pidx is None else np.asarray(pidx, np.int64),
                }
            )
        )

    det = np.flatnonzero(h.det)
    for t, name in enumerate(RISK_OF):
        m = det[h.det_type[det] == t]
        add(m, h.det_date[m], f"deterioration:{name}", h.det_person[m])
    add(a_h, a_d, "application")
    add(v_h, v_d, "visit")
    add(inc, ps, "publication")
    add(inc, h.incl_date[inc], "confirmed_monitoring_object")
    add(rec, h.rec_date[rec], "risk_eliminated")
    dead = np.flatnonzero(h.death != NA)
    add(h.ph[dead], h.death[dead], "death", dead)
    sm = np.flatnonzero(h.student_missing)
    add(h.ph[sm], np.full(len(sm), ws), "student_missing_from_records", sm)
    un = np.flatnonzero(h.uninsured)
    add(h.ph[un], np.full(len(un), ws), "uninsured", un)
    events = pl.concat(ev)
    return apps, visits, pubs, decisions, econ, events
