"""Event and record tables derived from the hidden history (vectorised)."""

from __future__ import annotations

import numpy as np
import polars as pl

from .history import CATEGORIES, NA, RISK_OF, History
from .population import GIVEN_F, GIVEN_M, SURNAMES

REASON_TEXT = {
    "因病": ["因病", "家人生病住院", "患病住院，医疗费用高", "因病致贫，需长期吃药"],
    "因意外事故": ["因意外事故", "车祸受伤", "意外摔伤，无法务工"],
    "因自然灾害": ["因自然灾害", "冰雹灾害，庄稼绝收", "洪涝灾害", "大风吹坏房屋"],
    "义务教育阶段失学辍学": ["孩子辍学在家", "子女不上学了"],
    "住房出现安全问题": ["住房出现安全问题", "房屋裂缝漏雨", "房子危险"],
    "因务工就业不稳": ["因务工就业不稳", "失业在家，没有工资收入", "打工被欠薪"],
    "因产业项目失败": ["因产业项目失败", "养殖亏损", "种植产品滞销，价格低"],
    "因残": ["因残", "家人残疾，需要照顾"],
}
TEMP_REASONS = ["因意外事故", "因灾", "车祸受伤", "火灾", "生活临时困难", "因病"]


def _u(rng, n, lo, hi):
    return rng.integers(lo, hi + 1, n)


def _pick(rng, options_by_key: dict, keys: np.ndarray) -> np.ndarray:
    out = np.empty(len(keys), dtype=object)
    for k, opts in options_by_key.items():
        m = keys == k
        if m.any():
            out[m] = np.asarray(opts, dtype=object)[rng.integers(0, len(opts), int(m.sum()))]
    out[out == None] = "其他"  # noqa: E711
    return out


def random_names(rng, n):
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    a = np.array(GIVEN_M + GIVEN_F)[rng.integers(0, len(GIVEN_M) + len(GIVEN_F), n)]
    b = np.array(GIVEN_M + GIVEN_F)[rng.integers(0, len(GIVEN_M) + len(GIVEN_F), n)]
    return pl.DataFrame({"s": s, "a": a, "b": b}).select(pl.concat_str(["s", "a", "b"]))[:, 0].to_numpy()


def civil_records(h: History) -> pl.DataFrame:
    rng = h.rng
    H = h.H
    ws, end = h.ws, h.end
    span = max(end - ws, 1)
    heads = h.offs
    parts = []

    def rec(p, typ, start, endd, monthly, one_off, covered, reason, gradual=None):
        n = len(p)
        parts.append(
            pl.DataFrame(
                {
                    "pidx": np.asarray(p, np.int64),
                    "type": np.full(n, typ),
                    "start": np.asarray(start, np.int64),
                    "end": np.asarray(endd, np.int64),
                    "monthly": np.asarray(monthly, float),
                    "one_off": np.asarray(one_off, float),
                    "covered": np.asarray(covered, np.int64),
                    "reason": np.asarray(reason, dtype=object).astype(str),
                    "gradual": np.zeros(n, bool) if gradual is None else gradual,
                }
            )
        )

    # 低保 baseline
    p_db = np.where(h.base_type == 0, 0.25, 0.02) + np.where(h.mon0, 0.25, 0)
    db = np.flatnonzero(rng.random(H) < p_db)
    n = len(db)
    start = ws - _u(rng, n, 60, 8 * 365)
    e = np.where(rng.random(n) < 0.08, ws - _u(rng, n, 1, 300), NA)
    e = np.where((e == NA) & (rng.random(n) < 1 - np.exp(-0.06 * span / 365)), ws + _u(rng, n, 0, span), e)
    reasons = np.array(["因病", "因残", "缺劳动力", "因学", "年老体弱"], dtype=object)[rng.integers(0, 5, n)]
    rec(
        heads[db],
        0,
        start,
        e,
        np.round(h.size[db] * rng.uniform(450, 650, n)),
        np.full(n, np.nan),
        h.size[db],
        reasons,
        rng.random(n) < 0.05,
    )
    # 特困 for single elderly without labour
    single = np.flatnonzero((h.size == 1) & (h.age[heads] >= 60) & np.isin(h.labour[heads], [3, 4]))
    tk = single[rng.random(len(single)) < 0.8]
    n = len(tk)
    rec(
        heads[tk],
        1,
        ws - _u(rng, n, 100, 10 * 365),
        np.full(n, NA),
        np.round(rng.uniform(800, 1100, n)),
        np.full(n, np.nan),
        np.ones(n),
        np.full(n, "年老无劳动能力"),
    )
    # disability subsidies
    dis = np.flatnonzero(np.isin(h.health0, [3, 4]))
    u = rng.random(len(dis))
    for typ, m, lo, hi in ((3, u < 0.6, 100, 150), (4, (u > 0.6) & (u < 0.85), 100, 200)):
        p = dis[m]
        rec(
            p,
            typ,
            ws - _u(rng, len(p), 100, 6 * 365),
            np.full(len(p), NA),
            np.round(rng.uniform(lo, hi, len(p))),
            np.full(len(p), np.nan),
            np.ones(len(p)),
            np.full(len(p), "残疾"),
        )
    # deterioration: 低保 after illness, 临时救助 after accident / disaster, subsidy after disability
    det = h.det
    dt = h.det_type
    dd = h.det_date
    ill = np.flatnonzero(det & (dt == 0) & (rng.random(H) < 0.45))
    s = dd[ill] + _u(rng, len(ill), 30, 90)
    ok = s <= end
    ill, s = ill[ok], s[ok]
    rec(
        heads[ill],
        0,
        s,
        np.full(len(ill), NA),
        np.round(h.size[ill] * rng.uniform(450, 650, len(ill))),
        np.full(len(ill), np.nan),
        h.size[ill],
        np.full(len(ill), "因病"),
    )
    acc = np.flatnonzero(det & (((dt == 1) & (rng.random(H) < 0.7)) | ((dt == 2) & (rng.random(H) < 0.8))))
    s = np.maximum(dd[acc], h.ws) + _u(rng, len(acc), 5, 30)
    ok = s <= end
    acc, s = acc[ok], s[ok]
    reason = np.where(
        dt[acc] == 1,
        np.array(["因意外事故", "车祸受伤", "意外摔伤"])[rng.integers(0, 3, len(acc))],
        np.array(["因灾", "冰雹灾害", "洪涝灾害", "因自然灾害"])[rng.integers(0, 4, len(acc))],
    )
    rec(
        heads[acc],
        2,
        s,
        s,
        np.full(len(acc), np.nan),
        np.round(rng.uniform(2000, 8000, len(acc))),
        np.ones(len(acc)),
        reason,
    )
    dsb = np.flatnonzero(det & (dt == 7))
    s = dd[dsb] + _u(rng, len(dsb), 30, 60)
    ok = s <= end
    dsb, s = dsb[ok], s[ok]
    rec(
        h.det_person[dsb],
        3,
        s,
        np.full(len(dsb), NA),
        np.round(rng.uniform(100, 150, len(dsb))),
        np.full(len(dsb), np.nan),
        np.ones(len(dsb)),
        np.full(len(dsb), "因残"),
    )
    # background 临时救助: last year before the window and inside it
    bg = np.flatnonzero(rng.random(H) < 0.01 + 0.01 * span / 365)
    s = ws - 300 + _u(rng, len(bg), 0, span + 300)
    rec(
        heads[bg],
        2,
        s,
        s,
        np.full(len(bg), np.nan),
        np.round(rng.uniform(1000, 5000, len(bg))),
        np.ones(len(bg)),
        np.array(TEMP_REASONS)[rng.integers(0, len(TEMP_REASONS), len(bg))],
    )
    df = pl.concat(parts)
    # deaths end recurring assistance, except occasionally
    death = h.death[df["pidx"].to_numpy()]
    e = df["end"].to_numpy()
    keep = rng.random(df.height) < 0.1
    recurring = df["type"].to_numpy() != 2
    new_end = np.where(
        recurring & (death != NA) & ((e == NA) | (e > death)) & ~keep, death + _u(rng, df.height, 0, 60), e
    )
    return df.with_columns(pl.Series("end", new_end))


def claims(h: History) -> pl.DataFrame:
    rng = h.rng
    ws, end = h.ws, h.end
    span = max(end - ws, 1)
    years = span / 365
    hl = h.health0
    # rates per year: outpatient, chronic, inpatient
    out_r = np.array([0.8, 1.5, 1.0, 1.5, 1.5])[hl]
    chr_r = np.array([0.0, 5.0, 8.0, 0.5, 5.0])[hl]
    inp_r = np.array([0.04, 0.2, 1.2, 0.1, 0.25])[hl] * (1 + h.age / 40)
    parts = []
    for vt, r in ((0, out_r), (1, chr_r), (2, inp_r)):
        cnt = rng.poisson(r * years)
        p = np.repeat(np.arange(h.P), cnt)
        parts.append((p, np.full(len(p), vt), ws + _u(rng, len(p), 0, span), np.zeros(len(p), np.int8)))
    # deterioration: big inpatient settlements
    det = h.det
    ill = np.flatnonzero(det & (h.det_type == 0))
    k = 1 + rng.binomial(2, 0.6, len(ill))
    hi = np.repeat(ill, k)
    nth = np.arange(len(hi)) - np.repeat((np.cumsum(k) - k), k)
    d = h.det_date[hi] + np.where(nth == 0, 0, nth * _u(rng, len(hi), 20, 60))
    parts.append((h.det_person[hi], np.full(len(hi), 2), d, np.where(nth == 0, 2, 1).astype(np.int8)))
    acc = np.flatnonzero(det & (h.det_type == 1))
    parts.append((h.det_person[acc], np.full(len(acc), 2), h.det_date[acc], np.full(len(acc), 3, np.int8)))
    p = np.concatenate([x[0] for x in parts])
    vt = np.concatenate([x[1] for x in parts])
    day = np.concatenate([x[2] for x in parts])
    big = np.concatenate([x[3] for x in parts])
    death = h.death[p]
    ok = (day <= end) & (day >= ws) & ((death == NA) | (day < death))
    p, vt, day, big = p[ok], vt[ok], day[ok], big[ok]
    n = len(p)
    mu = np.select([vt == 0, vt == 1, big == 2, big == 1, big == 3], [120, 500, 60000, 20000, 30000], 7000)
    sg = np.select([vt == 0, vt == 1, big > 0], [0.6, 0.7, 0.45], 0.8)
    total = np.round(np.exp(np.log(mu) + sg * rng.standard_normal(n)) * 100).astype(np.int64) + 500
    basic_r = np.select(
        [vt == 0, vt == 1], [rng.uniform(0.3, 0.6, n), rng.uniform(0.5, 0.7, n)], rng.uniform(0.5, 0.68, n)
    )
    basic = np.round(total * basic_r).astype(np.int64)
    crit = np.where(vt == 2, np.maximum(total - basic - 1_500_000, 0) * 6 // 10, 0)
    poor = (h.base_type[h.ph[p]] == 0) | h.mon0[h.ph[p]]
    aid = np.where(poor & (vt == 2), np.round((total - basic - crit) * rng.uniform(0.2, 0.5, n)).astype(np.int64), 0)
    personal = total - basic - crit - aid
    compliant = np.round(personal * rng.uniform(0.6, 0.9, n)).astype(np.int64)
    lvl = np.select(
        [vt == 0, vt == 1],
        [rng.choice([0, 1], n), rng.choice([1, 2], n)],
        rng.choice([2, 3, 4, 5], n, p=[0.5, 0.3, 0.15, 0.05]),
    )
    order = np.lexsort((p, day))
    df = pl.DataFrame(
        {
            "pidx": p,
            "visit_type": vt,
            "day": day,
            "level": lvl,
            "total": total,
            "basic": basic,
            "crit": crit,
            "aid": aid,
            "personal": personal,
            "compliant": compliant,
            "big": big,
        }
    )[order]
    df = df.with_row_index("seq").with_columns(pl.lit(0).alias("reversal"), pl.lit(None, pl.Int64).alias("orig_seq"))
    # reversals
    rv = np.flatnonzero(rng.random(df.height) < 0.01)
    r = df[rv].with_columns(
        pl.col("seq").cast(pl.Int64).alias("orig_seq"),
        (pl.col("day") + pl.Series(_u(rng, len(rv), 0, 7))).clip(upper_bound=end).alias("day"),
        pl.lit(1).alias("reversal"),
        *[(-pl.col(c)).alias(c) for c in ("total", "basic", "crit", "aid", "personal", "compliant")],
        (pl.Series(np.arange(len(rv), dtype=np.uint32)) + df.height).alias("seq"),
    )
    return pl.concat([df, r.select(df.columns)])


def students(h: History) -> pl.DataFrame:
    rng = h.rng
    stage = h.persons["stage"].to_numpy()
    p = np.flatnonzero((stage >= 0) & ~h.student_missing)
    status = np.zeros(len(p), np.int64)  # 0 在读, 1 休学, 2 辍学
    change = np.full(len(p), NA)
    sus = rng.random(len(p)) < 0.002
    status[sus] = 1
    change[sus] = h.ws - _u(rng, int(sus.sum()), 10, 200)
    drop = np.flatnonzero(h.det & (h.det_type == 3))
    pos = np.searchsorted(p, h.det_person[drop])
    ok = pos < len(p)
    ok[ok] = p[pos[ok]] == h.det_person[drop][ok]
    return pl.DataFrame({"pidx": p, "status": status, "change": change}), (pos[ok], h.det_date[drop][ok])


def housing(h: History) -> pl.DataFrame:
    rng = h.rng
    H = h.H
    g = rng.choice(4, H, p=[0.6, 0.35, 0.035, 0.015])
    day = h.ws - _u(rng, H, 30, 3 * 365)
    cd = g >= 2
    su = rng.random(H)
    status = np.where(cd, np.where(su < 0.6, 3, np.where(su < 0.8, 2, 1)), 0)
    method = np.where(cd, rng.choice(5, H, p=[0.7, 0.1, 0.1, 0.05, 0.05]), -1)
    comp = np.where(status == 3, day + _u(rng, H, 60, 300), NA)
    comp = np.where(comp > h.ws, h.ws - 5, comp)
    # a planned completion in the window for 改造中
    comp_future = np.where(status == 2, day + _u(rng, H, 60, 500), NA)
    base = pl.DataFrame(
        {
            "hidx": np.arange(H),
            "grade": g,
            "day": day,
            "status": status,
            "method": method,
            "completion": comp,
            "completion_future": comp_future,
        }
    )
    ev = np.flatnonzero(h.det & ((h.det_type == 4) | ((h.det_type == 2) & (rng.random(H) < 0.3))))
    n = len(ev)
    new = pl.DataFrame(
        {
            "hidx": ev,
            "grade": np.where(h.det_type[ev] == 4, rng.choice([2, 3], n, p=[0.7, 0.3]), 2),
            "day": np.maximum(h.det_date[ev], h.ws) + _u(rng, n, 0, 10),
            "status": np.ones(n, np.int64),
            "method": rng.choice(5, n, p=[0.7, 0.1, 0.1, 0.05, 0.05]),
            "completion": np.full(n, NA),
            "completion_future": np.full(n, NA),
        }
    )
    df = pl.concat([base, new.cast(base.schema)])
    return df.filter(pl.col("day") <= h.end)


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
