"""Department records derived from the hidden history (vectorised): civil assistance, medical claims, students,
housing assessments; the identification workflow's records are in ``generator.workflow_events``."""

from __future__ import annotations

import numpy as np
import polars as pl

from .history import NA, History
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
