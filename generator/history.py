"""The hidden risk process: state changes and event tables over the history window (vectorised)."""

from __future__ import annotations

import numpy as np
import polars as pl

NA = -(10**7)  # missing day
DET_TYPES = ["illness", "accident", "disaster", "dropout", "housing", "job_loss", "business_failure", "disability"]
DET_WEIGHTS = np.array([0.38, 0.10, 0.08, 0.05, 0.09, 0.16, 0.08, 0.06])
RISK_OF = {
    "illness": "因病",
    "accident": "因意外事故",
    "disaster": "因自然灾害",
    "dropout": "义务教育阶段失学辍学",
    "housing": "住房出现安全问题",
    "job_loss": "因务工就业不稳",
    "business_failure": "因产业项目失败",
    "disability": "因残",
}
BASE_RISKS = ["因病", "因残", "因学", "缺劳动力", "因务工就业不稳", "因产业项目失败", "因自然灾害", "因意外事故"]
CATEGORIES = ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
HTYPES = ["脱贫户", "监测户", "一般农户"]


def _days(d) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _u(rng, n, lo, hi):
    return rng.integers(lo, hi + 1, n)


class History:
    """All the hidden state and the event tables, days as ints since the epoch."""

    def __init__(self, rng, hh: pl.DataFrame, persons: pl.DataFrame, ws: int, end: int):
        self.ws, self.end = ws, end
        H, P = hh.height, persons.height
        span = max(end - ws, 1)
        years = span / 365.0
        risk = hh["risk"].to_numpy()
        size = hh["size"].to_numpy()
        ph = persons["hidx"].to_numpy()
        age = persons["age"].to_numpy()
        health = persons["health"].to_numpy().copy()
        labour = persons["labour"].to_numpy()
        stage = persons["stage"].to_numpy()
        self.offs = (np.cumsum(size) - size).astype(np.int64) if H else np.zeros(0, np.int64)

        # household types
        score = risk + rng.normal(0, 0.15, H)
        n_tp = int(round(0.22 * H))
        htype = np.full(H, 2)
        htype[np.argsort(-score, kind="stable")[:n_tp]] = 0
        score2 = risk + rng.normal(0, 0.1, H) + 0.08 * (htype == 0)
        mon0 = np.zeros(H, bool)
        mon0[np.argsort(-score2, kind="stable")[: int(round(0.04 * H))]] = True
        self.base_type = htype
        self.mon0 = mon0
        self.mon0_date = np.where(mon0, ws - _u(rng, H, 60, 3 * 365), NA)
        elim0 = mon0 & (rng.random(H) < 0.3)
        self.elim0_date = np.where(elim0, np.minimum(self.mon0_date + _u(rng, H, 90, 500), ws - 10), NA)
        base_risk = np.asarray(BASE_RISKS)[
            rng.choice(len(BASE_RISKS), H, p=[0.35, 0.15, 0.1, 0.15, 0.1, 0.07, 0.04, 0.04])
        ]
        self.mon0_risk = np.where(mon0, base_risk, None)

        # income (per-capita, base year = year of end - 1)
        pc = 19500 * np.exp(-1.8 * (risk - 0.29)) * np.where(htype == 0, 0.8, 1.0) * np.where(mon0, 0.7, 1.0)
        self.pc_base = pc * np.exp(rng.normal(0, 0.3, H))
        self.wage_share = np.clip(rng.normal(0.55, 0.15, H), 0.05, 0.9)
        self.transfer_share = np.clip(rng.normal(0.12, 0.05, H) + 0.1 * (htype == 0), 0.02, 0.6)
        self.neg_income = rng.random(H) < 0.003
        self.income_seed = int(rng.integers(0, 2**31))

        # deterioration for households not actively monitored at ws
        active0 = mon0 & ~elim0
        rate = 0.01 + 0.16 * risk
        det = (~active0) & (rng.random(H) < 1 - np.exp(-rate * years))
        dtype = rng.choice(len(DET_TYPES), H, p=DET_WEIGHTS / DET_WEIGHTS.sum())
        # dropout needs a compulsory-age student
        comp = (stage >= 1) & (stage <= 2) & (age >= 10)
        cidx = np.flatnonzero(comp)
        first_student = np.full(H, -1)
        uh, fi = np.unique(ph[cidx], return_index=True)
        first_student[uh] = cidx[fi]
        dtype = np.where((dtype == 3) & (first_student < 0), 0, dtype)
        ddate = ws + _u(rng, H, 0, span)
        latest_survey_year = int(np.datetime64(end, "D").astype("datetime64[Y]").astype(int) + 1970) - 1
        self.latest_survey_year = latest_survey_year
        y0 = _days(f"{latest_survey_year}-01-01")
        inc_type = np.isin(dtype, [5, 6])
        ddate = np.where(inc_type, y0 + _u(rng, H, 0, 364), ddate)
        self.det = det
        self.det_type = np.where(det, dtype, -1)
        self.det_date = np.where(det, ddate, NA)
        # affected member: random member (adult preferred) or the student
        j = np.floor(rng.random(H) * size).astype(np.int64)
        person = self.offs + j
        person = np.where(dtype == 3, first_student, person)
        self.det_person = np.where(det, person, -1)

        # inclusion
        p_incl = np.where(np.isin(dtype, [0, 1, 2]), 0.6, 0.5)
        base = np.maximum(ddate, ws)
        incl_date = base + _u(rng, H, 25, 80)
        incl = det & (rng.random(H) < p_incl) & (incl_date <= end)
        self.incl = incl
        self.incl_date = np.where(incl, incl_date, NA)
        pc_latest = self.pc_base
        cat = np.where(htype == 0, 0, np.where(pc_latest < 13500, 1, 2))
        self.incl_cat = cat
        self.det_risk = np.where(det, np.asarray(list(RISK_OF.values()))[np.maximum(dtype, 0)], None)

        # recovery
        rec0 = active0 & (rng.random(H) < 1 - np.exp(-0.25 * years))
        rec0_date = ws + _u(rng, H, 0, span)
        rec1_date = incl_date + _u(rng, H, 90, 300)
        rec1 = incl & (rng.random(H) < 0.35) & (rec1_date <= end)
        self.rec = rec0 | rec1
        self.rec_date = np.where(rec0, rec0_date, np.where(rec1, rec1_date, NA))

        # deaths, migration
        pdeath = np.where(age >= 60, 0.01 + (age - 60) * 0.004, 0.0008) * years
        dead = rng.random(P) < pdeath
        self.death = np.where(dead, ws + _u(rng, P, 0, span), NA)
        st = rng.random(P)
        self.pstatus = np.where(st < 0.003, 2, np.where(st < 0.004, 3, 0))  # 迁出 / 失联
        self.health0 = health
        self.health_change = np.full(P, NA)
        self.health_new = health.copy()
        dp = self.det_person
        ill = det & (dtype == 0)
        self.health_change[dp[ill]] = ddate[ill]
        self.health_new[dp[ill]] = 2
        dis = det & (dtype == 7)
        self.health_change[dp[dis]] = ddate[dis]
        self.health_new[dp[dis]] = np.where(health[dp[dis]] == 1, 4, 3)
        # the ill person does not die before falling ill
        self.death[dp[det]] = np.where(self.death[dp[det]] < ddate[det], NA, self.death[dp[det]])
        self.uninsured = rng.random(P) < 0.008
        self.student_missing = comp & (rng.random(P) < 0.003)
        self.labour = labour
        self.H, self.P, self.ph, self.age, self.size = H, P, ph, age, size
        self.rng = rng
        self.hh, self.persons = hh, persons

    # ------------------------------------------------------------------ incomes
    def income(self, year: int) -> dict[str, np.ndarray]:
        r = np.random.default_rng([self.income_seed, year])
        H = self.H
        pc = self.pc_base * 1.05 ** (year - self.latest_survey_year) * np.exp(r.normal(0, 0.08, H))
        if year == self.latest_survey_year:
            job = self.det & (self.det_type == 5)
            bus = self.det & (self.det_type == 6)
            wage_f = np.where(job, r.uniform(0.2, 0.45, H), 1.0)
            bus_f = np.where(bus, r.uniform(0.05, 0.4, H), 1.0)
        else:
            wage_f = bus_f = np.ones(H)
        net = pc * self.size
        transfer = net * self.transfer_share
        prop = net * 0.03
        wage = net * self.wage_share * wage_f
        business = np.maximum(net - transfer - prop - net * self.wage_share, 0) * bus_f
        expense = business * r.uniform(0.2, 0.6, H)
        gross_bus = business + expense
        neg = self.neg_income & (year == self.latest_survey_year)
        expense = np.where(neg, gross_bus + r.uniform(2000, 15000, H), expense)
        net_total = wage + gross_bus + prop + transfer - expense
        ins = np.where(r.random(H) < 0.03, r.uniform(500, 20000, H), 0.0)
        oop = np.where(r.random(H) < 0.25, r.uniform(200, 6000, H), 0.0)
        ill = (
            self.det
            & (self.det_type == 0)
            & (self.det_date < np.int64(_days(f"{year + 1}-01-01")))
            & (self.det_date >= _days(f"{year}-01-01"))
        )
        oop = np.where(ill, oop + r.uniform(8000, 30000, H), oop)

        def rnd(a):
            return np.round(a, 2)

        return {
            "wage": rnd(wage),
            "business": rnd(gross_bus),
            "property": rnd(prop),
            "transfer": rnd(transfer),
            "expense": rnd(expense),
            "net": rnd(net_total),
            "pc": rnd(net_total / self.size),
            "insurance": rnd(ins),
            "oop": rnd(oop),
        }
