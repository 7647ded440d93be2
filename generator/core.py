"""generate(): population, hidden history, deliveries, messy rendering and writing."""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from fangfanpin.data_contracts import load_contract

from . import messy as M
from .events import civil_records, claims, housing, students, workflow
from .history import CATEGORIES, HTYPES, NA, History
from .ids import build_ids, unique_orders, ymd_of_days
from .messy import MessyRates
from .population import EDU, HEALTH, LABOUR, ROLES, build_population, load_counties, load_geography

SNAPSHOT = ["roster", "household_income", "civil_assistance", "students", "medical_enrollment", "housing_safety"]
INCREMENT = ["medical_claims", "econ_check", "applications", "visit_results", "publication_results", "county_decisions"]
FEEDS = SNAPSHOT + INCREMENT
XLSX_OK = {
    "applications",
    "visit_results",
    "publication_results",
    "county_decisions",
    "housing_safety",
    "econ_check",
    "civil_assistance",
    "students",
}
XLSX_MAX_ROWS = 3000
STAGES = ["学前教育", "小学", "初中", "普通高中", "中等职业教育", "高等职业教育", "本科"]
CN_NUM = ["", "一", "二", "三", "四", "五", "六"]
ASSIST = ["农村低保", "农村特困供养", "临时救助", "困难残疾人生活补贴", "重度残疾人护理补贴"]
GRADES = ["A", "B", "C", "D"]
METHODS = ["危房改造", "易地搬迁", "农房抗震改造", "租赁", "其他"]
RSTATUS = ["无需改造", "未改造", "改造中", "已竣工"]
LEVELS = ["村卫生室", "乡镇卫生院", "县级", "市级", "省级", "省外"]
VISIT_TYPES = ["普通门诊", "门诊慢特病", "住院"]
CHANNELS = ["线下申请", "12317热线", "一键申报"]
DEC_TYPES = ["确认纳入", "不予纳入", "确认风险消除", "退回重新核实"]
PSTATUS = ["正常", "死亡", "迁出", "失联"]
EPOCH = dt.date(1970, 1, 1)


def _L(labels, idx) -> pl.Series:
    """labels[idx] as a polars string Series (fast, no numpy unicode arrays)."""
    return pl.Series(list(labels), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def _N(s: pl.Series, null_mask) -> pl.Series:
    idx = np.flatnonzero(np.asarray(null_mask, dtype=bool))
    return s.scatter(idx, None) if len(idx) else s


def _W(cond, a: str, b: str) -> pl.Series:
    return pl.Series([b, a], dtype=pl.String).gather(np.asarray(cond, dtype=bool).astype(np.int64))


def _S(*args, dtype=None):
    """pl.Series from a (possibly object, None-holding) array of strings."""
    if len(args) == 2:
        name, vals = args
    else:
        name, vals = "", args[0]
    if isinstance(vals, np.ndarray) and vals.dtype == object:
        vals = vals.tolist()
    return pl.Series(name, vals, dtype=pl.String)


@dataclass
class GenerationSummary:
    deliveries: list[dt.date]
    files: list[Path]
    rows_per_feed: dict[str, int]
    seconds: float
    households: int = 0
    persons: int = 0
    counties: list[str] = field(default_factory=list)


def _d(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def schedule(start: dt.date, end: dt.date, daily_days: int, rng) -> list[tuple[int, set[str]]]:
    """[(day, snapshot feeds delivered)]; increments are delivered every time."""
    e = _day(end)
    month_ends = []
    m = dt.date(start.year, start.month, 1)
    while m <= end:
        nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        me = nxt - dt.timedelta(days=1)
        if start <= me <= end:
            month_ends.append(_day(me))
        m = nxt
    daily = list(range(e - daily_days + 1, e + 1)) if daily_days > 0 else []
    if len(daily) > 4:
        skip = set(rng.choice(daily[:-1], size=2, replace=False).tolist())
        daily = [d for d in daily if d not in skip or d in month_ends]
    days = sorted(set(month_ends) | set(daily)) or [e]
    if e not in days and daily_days > 0:
        days.append(e)
    out = []
    for d in days:
        if d in month_ends or not daily or d < daily[0] or d == days[0]:
            feeds = set(SNAPSHOT)
        else:
            feeds = {f for f in SNAPSHOT if rng.random() < 0.15}
            if (e - d) % 7 == 0:
                feeds |= {"roster", "civil_assistance"}
        out.append((d, feeds))
    return out


def _year(day: int) -> int:
    return _d(day).year


def _datecol(a: np.ndarray, name: str) -> pl.Series:
    a = np.asarray(a, np.int64)
    s = pl.Series(name, np.where(a == NA, 0, a).astype(np.int32)).cast(pl.Date)
    return pl.DataFrame({name: s, "m": a == NA}).select(
        pl.when(pl.col("m")).then(None).otherwise(pl.col(name)).alias(name)
    )[name]


class Builder:
    def __init__(self, h: History, geo: pl.DataFrame, rng):
        self.h = h
        self.rng = rng
        hh, ps = h.hh, h.persons
        self.hh, self.ps = hh, ps
        self.p_county = hh["county_code"].gather(h.ph)
        self.h_county = hh["county_code"]
        self.ids = ps["id_number"]
        self.names = ps["name"]
        self.hid = hh["household_id"]
        self.vcode = hh["village_code"]
        self.civil = civil_records(h)
        self.claims = claims(h)
        self.students, self.dropouts = students(h)
        self.housing = housing(h)
        self.apps, self.visits, self.pubs, self.decisions, self.econ, self.events = workflow(h)
        self._income_cache: dict[int, dict] = {}
        # static roster part
        stage = ps["stage"].to_numpy()
        grade = ps["grade"].to_numpy()
        ss = np.full(len(stage), "非在校生", dtype=object)
        ss[stage == 0] = "学前教育"
        ss[stage == 1] = "小学"
        jh = np.array(["七年级", "八年级", "九年级"], dtype=object)
        ss[stage == 2] = jh[np.clip(grade[stage == 2] - 1, 0, 2)]
        for st, pre, mx in ((3, "高中", 3), (4, "中职", 3), (5, "高职高专", 3), (6, "本科", 5)):
            m = stage == st
            ss[m] = np.char.add(
                np.char.add(pre, np.array(CN_NUM, dtype=object)[np.clip(grade[m], 1, mx)].astype(str)), "年级"
            )
        self.school_status = pl.Series(ss.tolist(), dtype=pl.String)
        ph = h.ph
        phone = pl.DataFrame(
            {"a": np.array(["13", "15", "18"])[self.rng.integers(0, 3, h.H)], "b": self.rng.integers(0, 10**9, h.H)}
        ).select(pl.concat_str([pl.col("a"), pl.col("b").cast(pl.String).str.zfill(9)]))[:, 0]
        edu = ps["edu"].to_numpy()
        self.roster_static = pl.DataFrame(
            {
                "county_name": hh["county_name"].gather(ph),
                "township_name": hh["township_name"].gather(ph),
                "village_name": hh["village_name"].gather(ph),
                "village_code": hh["village_code"].gather(ph),
                "household_id": self.hid[ph],
                "person_id": pl.DataFrame({"h": self.hid[ph], "k": ps["k"].to_numpy() + 1}).select(
                    pl.concat_str([pl.col("h"), pl.col("k").cast(pl.String).str.zfill(2)])
                )[:, 0],
                "name": self.names,
                "id_number": self.ids,
                "sex": _W(ps["male"].to_numpy(), "男", "女"),
                "birth_date": _datecol(ps["birth"].to_numpy(), "b"),
                "relation": _L(ROLES, ps["role"].to_numpy()),
                "household_size": h.size[ph],
                "ethnicity": _W(ps["mongol"].to_numpy(), "蒙古族", "汉族"),
                "education": _N(_L(EDU, np.maximum(edu, 0)), edu < 0),
                "school_status": self.school_status,
            }
        )
        self.roster_static2 = pl.DataFrame(
            {
                "labour_skill": _L(LABOUR, ps["labour"].to_numpy()),
                "work_months": ps["work"].to_numpy(),
                "critical_illness_insured": ~h.uninsured & (self.rng.random(h.P) < 0.99),
            }
        )
        self.safe_water = (self.rng.random(h.H) > 0.004)[ph]
        self.phone = phone.gather(ph)

    def income(self, year):
        if year not in self._income_cache:
            self._income_cache[year] = self.h.income(year)
        return self._income_cache[year]

    # ---------------------------------------------------------------- snapshots at day d
    def monitored_state(self, d):
        h = self.h
        included = h.incl & (h.incl_date <= d)
        mon = h.mon0 | included
        ident = np.where(h.mon0, h.mon0_date, np.where(included, h.incl_date, NA))
        cat = np.where(h.mon0, np.where(h.base_type == 0, 0, 1), h.incl_cat)
        risk = np.where(h.mon0, h.mon0_risk, h.det_risk)
        elim_d = np.where(h.elim0_date != NA, h.elim0_date, np.where(h.rec & (h.rec_date <= d), h.rec_date, NA))
        elim_d = np.where(mon, elim_d, NA)
        return mon, ident, cat, risk, elim_d

    def roster(self, d):
        h = self.h
        ph = h.ph
        mon, ident, cat, risk, elim_d = self.monitored_state(d)
        htype = np.where(mon, 1, h.base_type)
        health = np.where((h.health_change != NA) & (h.health_change <= d), h.health_new, h.health0)
        status = np.where((h.death != NA) & (h.death <= d), 1, h.pstatus)
        hs = self.housing.filter(pl.col("day") <= d).sort("day").unique("hidx", keep="last")
        unsafe = np.zeros(h.H, bool)
        hs_h = hs["hidx"].to_numpy()
        st = hs["status"].to_numpy()
        cf = hs["completion_future"].to_numpy()
        done = (st == 3) | ((cf != NA) & (cf <= d))
        unsafe[hs_h] = (hs["grade"].to_numpy() >= 2) & ~done
        inc = self.income(_year(d) - 1)
        df = pl.concat([self.roster_static, self.roster_static2], how="horizontal").with_columns(
            pl.Series("health", _L(HEALTH, health)),
            pl.Series("unsafe_house", unsafe[ph]),
            pl.Series("safe_water", self.safe_water),
            pl.Series("income_per_capita", inc["pc"][ph]),
            pl.Series("household_type", _L(HTYPES, htype[ph])),
            _N(_L(CATEGORIES, cat[ph]), ~mon[ph]).alias("monitoring_category"),
            _N(_S(risk).gather(ph), ~mon[ph]).alias("risk_type_1"),
            pl.Series("risk_eliminated", elim_d[ph] != NA).set(pl.Series(~mon[ph]), None),
            _datecol(ident[ph], "risk_identified_date"),
            _datecol(elim_d[ph], "risk_eliminated_date"),
            pl.Series("person_status", _L(PSTATUS, status)),
            pl.Series("phone", self.phone),
            pl.Series("_county", self.p_county),
        )
        return df

    def household_income(self, d):
        y = _year(d)
        parts = []
        for yr in (y - 2, y - 1):
            inc = self.income(yr)
            parts.append(
                pl.DataFrame(
                    {
                        "household_id": self.hid,
                        "year": np.full(self.h.H, yr),
                        "household_size": self.h.size,
                        "wage_income": inc["wage"],
                        "business_income": inc["business"],
                        "property_income": inc["property"],
                        "transfer_income": inc["transfer"],
                        "business_expense": inc["expense"],
                        "net_income": inc["net"],
                        "net_income_per_capita": inc["pc"],
                        "insurance_income": inc["insurance"],
                        "compliant_out_of_pocket": inc["oop"],
                        "_county": self.h_county,
                    }
                )
            )
        return pl.concat(parts)

    def civil_assistance(self, d):
        c = self.civil.filter((pl.col("start") <= d) & ((pl.col("end") == NA) | (pl.col("end") >= d - 365)))
        p = c["pidx"].to_numpy()
        typ = c["type"].to_numpy()
        e = c["end"].to_numpy()
        ended = (e != NA) & (e <= d)
        status = _L(
            ["已发放", "停保", "渐退期", "在保"],
            np.where(typ == 2, 0, np.where(ended, 1, np.where(c["gradual"].to_numpy(), 2, 3))),
        )
        return pl.DataFrame(
            {
                "id_number": self.ids[p],
                "name": self.names[p],
                "village_code": self.vcode[self.h.ph[p]],
                "assistance_type": _L(ASSIST, typ),
                "assistance_status": status,
                "start_date": _datecol(c["start"].to_numpy(), "s"),
                "end_date": _datecol(np.where(ended, e, NA), "e"),
                "monthly_amount": np.where(typ == 2, np.nan, c["monthly"].to_numpy()),
                "one_off_amount": c["one_off"].to_numpy(),
                "covered_persons": pl.Series(np.where(typ == 0, c["covered"].to_numpy(), 0)),
                "reason": c["reason"].to_numpy(),
                "_county": self.p_county[p],
                "_disabled": np.isin(typ, [3, 4]),
            }
        ).with_columns(
            pl.col("monthly_amount").fill_nan(None),
            pl.col("one_off_amount").fill_nan(None),
            pl.when(pl.col("covered_persons") > 0)
            .then(pl.col("covered_persons"))
            .otherwise(None)
            .alias("covered_persons"),
        )

    def students_feed(self, d):
        if not hasattr(self, "_stu"):
            self._stu = self._students_static()
        s = self.students
        status = s["status"].to_numpy().copy()
        change = s["change"].to_numpy().copy()
        pos, dd = self.dropouts
        m = dd <= d
        status[pos[m]] = 2
        change[pos[m]] = dd[m]
        return self._stu.with_columns(
            _L(["在读", "休学", "辍学"], status).alias("enrolment_status"), _datecol(change, "status_changed_date")
        ).select(
            "id_number",
            "name",
            "stage",
            "grade",
            "school",
            "enrolment_status",
            "status_changed_date",
            "aid_programme",
            "aid_amount",
            "_county",
        )

    def _students_static(self):
        s = self.students
        p = s["pidx"].to_numpy()
        stage = self.ps["stage"].to_numpy()[p]
        grade = self.ps["grade"].to_numpy()[p]
        ph = self.h.ph[p]
        uni = ["内蒙古大学", "内蒙古师范大学", "内蒙古农业大学", "郑州大学", "河南大学", "山西大学"]
        voc = ["鄂尔多斯职业学院", "内蒙古机电职业技术学院", "包头职业技术学院", "河南职业技术学院"]
        poor = (self.h.base_type[ph] == 0) | self.h.mon0[ph]
        prog = np.select(
            [~poor, np.isin(stage, [1, 2]), stage == 3, np.isin(stage, [4, 5]), stage == 6], [0, 1, 2, 3, 2], 0
        )
        aid_amt = np.select(
            [prog == 0, stage == 1, stage == 2, stage == 3, np.isin(stage, [4, 5])],
            [np.nan, 500.0, 625.0, 2000.0, 3000.0],
            3300.0,
        )
        gidx = np.select(
            [stage == 0, stage == 2],
            [np.clip(self.h.age[p] - 3, 0, 3), 4 + np.clip(grade - 1, 0, 2)],
            7 + np.clip(grade, 1, 6) - 1,
        )
        glabels = ["小班", "中班", "大班", "学前班", "七年级", "八年级", "九年级"] + [f"{c}年级" for c in CN_NUM[1:]]
        df = pl.DataFrame(
            {
                "id_number": self.ids.gather(p),
                "name": self.names.gather(p),
                "stage": _L(STAGES, stage),
                "grade": _L(glabels, gidx),
                "_town": self.hh["township_name"].gather(ph),
                "_cn": self.hh["county_name"].gather(ph),
                "_st": stage,
                "_uni": _L(uni, p % len(uni)),
                "_voc": _L(voc, p % len(voc)),
                "aid_programme": _N(_L(["", "生活补助", "国家助学金", "雨露计划"], prog), prog == 0),
                "aid_amount": aid_amt,
                "_county": self.p_county.gather(p),
            }
        ).with_columns(pl.col("aid_amount").fill_nan(None))
        st = pl.col("_st")
        return df.with_columns(
            pl.when(st == 0)
            .then(pl.col("_town") + "中心幼儿园")
            .when(st == 1)
            .then(pl.col("_town") + "中心小学")
            .when(st == 2)
            .then(pl.col("_town") + "中学")
            .when(st == 3)
            .then(pl.col("_cn") + "第一中学")
            .when(st == 4)
            .then(pl.col("_cn") + "职业技术学校")
            .when(st == 5)
            .then(pl.col("_voc"))
            .otherwise(pl.col("_uni"))
            .alias("school")
        ).drop("_town", "_cn", "_st", "_uni", "_voc")

    def medical_enrollment(self, d):
        h = self.h
        alive = np.flatnonzero((h.death == NA) | (h.death > d))
        y = _year(d)
        ph = h.ph[alive]
        poor = (h.base_type[ph] == 0) | h.mon0[ph]
        sub = np.where(poor, 1, 2)
        dibao = np.zeros(h.P, bool)
        dibao[self.civil.filter(pl.col("type") <= 1)["pidx"].to_numpy()] = True
        sub = np.where(dibao[h.offs[ph]], 0, sub)
        worker = (self.rng.random(len(alive)) < 0.02) & (h.age[alive] > 22) & (h.age[alive] < 60)
        parts = []
        for yr in (y - 1, y):
            st = _W(h.uninsured[alive] & (yr == y), "未参保", "正常参保")
            parts.append(
                pl.DataFrame(
                    {
                        "id_number": self.ids[alive],
                        "name": self.names[alive],
                        "insurance_year": np.full(len(alive), yr),
                        "scheme": _W(worker, "职工基本医疗保险", "城乡居民基本医疗保险"),
                        "enrolment_status": st,
                        "subsidy_category": _L(["全额资助", "定额资助", "无"], np.where(worker, 2, sub)),
                        "_county": self.p_county[alive],
                    }
                )
            )
        return pl.concat(parts)

    def housing_safety(self, d):
        hs = self.housing.filter(pl.col("day") <= d)
        hx = hs["hidx"].to_numpy()
        heads = self.h.offs[hx]
        st = hs["status"].to_numpy().copy()
        cf = hs["completion_future"].to_numpy()
        comp = hs["completion"].to_numpy().copy()
        fin = (cf != NA) & (cf <= d)
        st[fin] = 3
        comp[fin] = cf[fin]
        comp[st != 3] = NA
        method = hs["method"].to_numpy()
        return pl.DataFrame(
            {
                "head_id_number": self.ids[heads],
                "head_name": self.names[heads],
                "village_code": self.vcode[hx],
                "safety_grade": _L(GRADES, hs["grade"].to_numpy()),
                "assessment_date": _datecol(hs["day"].to_numpy(), "a"),
                "renovation_method": _N(_L(METHODS, np.maximum(method, 0)), method < 0),
                "renovation_status": _L(RSTATUS, st),
                "completion_date": _datecol(comp, "c"),
                "_county": self.h_county[hx],
            }
        )

    # ---------------------------------------------------------------- increments (whole history, with 'day')
    def increments(self) -> dict[str, pl.DataFrame]:
        c = self.claims
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
                "id_number": self.ids[p],
                "name": self.names[p],
                "settlement_date": _datecol(day, "d"),
                "visit_type": _L(VISIT_TYPES, c["visit_type"].to_numpy()),
                "facility_level": _L(LEVELS, c["level"].to_numpy()),
                "total_cost": f(c["total"].to_numpy()),
                "basic_insurance_paid": f(c["basic"].to_numpy()),
                "critical_insurance_paid": f(c["crit"].to_numpy()),
                "medical_aid_paid": f(c["aid"].to_numpy()),
                "personal_burden": f(c["personal"].to_numpy()),
                "compliant_self_paid": f(c["compliant"].to_numpy()),
                "_county": self.p_county[p],
                "_day": day,
            }
        )
        e = self.econ
        p = e["pidx"].to_numpy()
        out["econ_check"] = pl.DataFrame(
            {
                "id_number": self.ids[p],
                "check_date": _datecol(e["day"].to_numpy(), "d"),
                "vehicles": e["vehicles"].to_numpy(),
                "commodity_houses": e["houses"].to_numpy(),
                "businesses": e["business"].to_numpy(),
                "public_employee": e["public"].to_numpy(),
                "financial_assets": e["assets"].to_numpy(),
                "_county": self.p_county[p],
                "_day": e["day"].to_numpy(),
            }
        )
        a = self.apps
        hx = a["hidx"].to_numpy()
        p = a["pidx"].to_numpy()
        out["applications"] = pl.DataFrame(
            {
                "application_id": pl.DataFrame(
                    {"d": a["day"].to_numpy(), "s": a["seq"].to_numpy(), "c": self.h_county[hx]}
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
                "head_id_number": self.ids[p],
                "applicant_name": self.names[p],
                "village_code": self.vcode[hx],
                "reason": a["reason"].to_numpy(),
                "details": _S(np.where(a["details"].to_numpy() == "", None, a["details"].to_numpy()), dtype=pl.String),
                "_county": self.h_county[hx],
                "_day": a["day"].to_numpy(),
            }
        )
        v = self.visits
        hx = v["hidx"].to_numpy()
        kind = v["kind"].to_numpy()
        out["visit_results"] = pl.DataFrame(
            {
                "task_id": _S([None] * len(hx), dtype=pl.String),
                "household_id": self.hid[hx],
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
                "_county": self.h_county[hx],
                "_day": v["day"].to_numpy(),
            }
        )
        pb = self.pubs
        hx = pb["hidx"].to_numpy()
        obj = pb["objection"].to_numpy()
        out["publication_results"] = pl.DataFrame(
            {
                "batch_id": pb["batch"].to_numpy(),
                "household_id": self.hid[hx],
                "review_result": np.full(len(hx), "同意"),
                "start_date": _datecol(pb["start"].to_numpy(), "s"),
                "end_date": _datecol(pb["end"].to_numpy(), "e"),
                "objection": obj,
                "objection_conclusion": _S(np.where(obj, "异议不成立", None), dtype=pl.String),
                "_county": self.h_county[hx],
                "_day": pb["day"].to_numpy(),
            }
        )
        dc = self.decisions
        hx = dc["hidx"].to_numpy()
        cnames = self.hh["county_name"].to_numpy()[hx]
        out["county_decisions"] = pl.DataFrame(
            {
                "household_id": self.hid[hx],
                "decision_type": _L(DEC_TYPES, dc["type"].to_numpy()),
                "monitoring_category": dc["cat"],
                "risk_types": dc["risk"],
                "decision_date": _datecol(dc["day"].to_numpy(), "d"),
                "decision_unit": np.char.add(cnames.astype(str), "乡村振兴局"),
                "details": _W(dc["type"].to_numpy() == 0, "经审核，确认纳入监测对象", "经审核，确认风险消除"),
                "_county": self.h_county[hx],
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


# ------------------------------------------------------------------------------------------------ rendering
def _fake_ids(rng, n, ref_day) -> pl.Series:
    allc = load_counties()["county_code"].cast(pl.Int64).to_numpy()
    addr = rng.choice(allc, n)
    birth = ref_day - rng.integers(365, 85 * 365, n)
    ymd = ymd_of_days(birth)
    male = rng.random(n) < 0.5
    return build_ids(addr, ymd, unique_orders(rng, addr, ymd, male))


def render(df: pl.DataFrame, feed: str, rng, r: MessyRates, ref_day: int, xlsx: bool):
    """Typed frame (contract names) -> (string frame with headers, raw typed frame aligned, sci mask per id col)."""
    c = load_contract(feed)
    disabled = df["_disabled"].to_numpy() if "_disabled" in df.columns else None
    df = df.select(c.names)
    n = df.height
    # rows whose ID matches nobody
    idcols = c.id_columns
    if idcols and feed != "roster" and r.unmatched_ids > 0 and n:
        m = rng.random(n) < r.unmatched_ids
        if m.any():
            fake = _fake_ids(rng, int(m.sum()), ref_day)
            col = df[idcols[0]].to_numpy().copy()
            col[m] = fake.to_numpy()
            df = df.with_columns(pl.Series(idcols[0], col))
    # duplicates
    if r.duplicate_rows > 0 and n:
        k = rng.binomial(n, r.duplicate_rows)
        if k:
            extra = rng.integers(0, n, k)
            idx = np.sort(np.concatenate([np.arange(n), extra]))
            df = df[idx]
            if disabled is not None:
                disabled = disabled[idx]
    raw = df
    n = df.height
    file_date = M.ISO if rng.random() >= r.date_file else M.DATE_FORMATS[rng.integers(0, 3)]
    yes_style = 0 if rng.random() >= r.yesno_file else int(rng.integers(1, 3))
    sci = {}
    cols = {}
    for col in c.columns:
        nm = col.name
        x = df[nm]
        if col.type == "id":
            x, sci[nm] = M.mess_ids(x, rng, r, disabled if feed == "civil_assistance" else None)
        elif col.type == "date":
            x = M.fmt_dates(x, rng, r, file_date)
        elif col.type == "amount":
            x = M.fmt_amounts(x, rng, r)
        elif col.type == "yesno":
            x = M.fmt_yesno(x, rng, r, yes_style)
        elif col.type == "code":
            x = M.fmt_codes(x, rng, r, col.multi)
        else:
            x = x.cast(pl.String)
        cols[nm] = x.alias(nm)
    out = pl.DataFrame(list(cols.values()))
    if rng.random() < r.extra_column:
        note = np.where(
            rng.random(n) < 0.1, np.array(["已核实", "待补充材料", "电话联系不上", "同上"])[rng.integers(0, 4, n)], None
        )
        out = out.with_columns(_S("备注", note, dtype=pl.String))
        raw = raw.with_columns(_S("备注", note, dtype=pl.String))
    ren = {col.name: col.header for col in c.columns}
    return out.rename(ren), raw.rename(ren), {ren[k]: v for k, v in sci.items()}, c


def write_csv(path: Path, df: pl.DataFrame, enc: str) -> None:
    buf = io.BytesIO()
    df.write_csv(buf)
    b = buf.getvalue()
    if enc == "gb18030":
        b = b.decode("utf-8").encode("gb18030")
    elif enc == "utf-8-sig":
        b = b"\xef\xbb\xbf" + b
    path.write_bytes(b)


def write_xlsx(path: Path, df: pl.DataFrame, raw: pl.DataFrame, sci: dict, contract, rng, created: dt.datetime) -> None:
    import xlsxwriter

    types = {col.header: col.type for col in contract.columns}
    date_style = int(rng.integers(0, 3))  # 0 text, 1 date cells, 2 serial numbers
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"created": created, "author": "", "company": ""})
    ws = wb.add_worksheet("Sheet1")
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, df.columns)
    for j, h in enumerate(df.columns):
        t = types.get(h, "text")
        vals = df[h].to_list()
        fmt = None
        if t == "date" and date_style:
            rv = raw[h].to_list()
            if date_style == 1:
                vals = [dt.datetime(x.year, x.month, x.day) if x is not None else None for x in rv]
                fmt = dfmt
            else:
                vals = [(x - dt.date(1899, 12, 30)).days if x is not None else None for x in rv]
        elif t in ("amount", "int"):
            vals = [float(v) if v is not None and v.replace(".", "", 1).lstrip("-").isdigit() else v for v in vals]
        elif t == "id" and h in sci and sci[h].any():
            rv = raw[h].to_list()
            for i in np.flatnonzero(sci[h]):
                try:
                    vals[i] = float(rv[i])
                except (TypeError, ValueError):
                    pass
        ws.write_column(1, j, vals, fmt)
    wb.close()


# ------------------------------------------------------------------------------------------------ main
def generate(
    landing_dir: Path,
    truth_dir: Path,
    counties: list[str],
    households: int,
    start: dt.date,
    end: dt.date,
    seed: int = 0,
    messy: MessyRates | None = None,
    daily_days: int = 21,
    divisions_file: Path | None = None,
) -> GenerationSummary:
    t0 = time.perf_counter()
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    messy = MessyRates() if messy is None else messy
    counties = [str(c) for c in counties]
    rng = np.random.default_rng(seed)
    geo = load_geography(counties, Path(divisions_file) if divisions_file else None, rng)
    plan = schedule(start, end, daily_days, np.random.default_rng([seed, 1]))
    days = np.array([d for d, _ in plan], dtype=np.int64)
    end_day = int(days[-1])
    ws = min(_day(start), int(days[0]) - 30)
    hh, persons = build_population(np.random.default_rng([seed, 2]), geo, counties, households, end_day)
    h = History(np.random.default_rng([seed, 3]), hh, persons, ws, end_day)
    b = Builder(h, geo, np.random.default_rng([seed, 4]))
    incs = {
        k: assign_deliveries(v, days, np.random.default_rng([seed, 5, i]))
        for i, (k, v) in enumerate(b.increments().items())
    }
    inc_parts = {k: v.partition_by(["_di", "_county"], as_dict=True) for k, v in incs.items()}
    files: list[Path] = []
    rows = {f: 0 for f in FEEDS}
    feed_no = {f: i for i, f in enumerate(FEEDS)}
    encs = np.array(["utf-8", "utf-8-sig", "gb18030"])
    ep = np.array([messy.enc_utf8, messy.enc_bom, messy.enc_gb18030], float)
    ep = ep / ep.sum() if ep.sum() > 0 else np.array([1.0, 0, 0])
    for di, (d, snaps) in enumerate(plan):
        ddate = _d(d)
        folder = landing_dir / ddate.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        created = dt.datetime(ddate.year, ddate.month, ddate.day, 18, 0, 0)
        frames: dict[str, dict] = {}
        for f in SNAPSHOT:
            if f in snaps:
                fr = getattr(b, "students_feed" if f == "students" else f)(d)
                frames[f] = {(counties[0],): fr} if len(counties) == 1 else fr.partition_by("_county", as_dict=True)
        for f in INCREMENT:
            frames[f] = {(c,): inc_parts[f].get((di, c)) for c in counties}
        for f, byc in frames.items():
            for ci, cc in enumerate(counties):
                fr = byc.get((cc,))
                if fr is None:
                    if f in SNAPSHOT:
                        continue
                    fr = incs[f].clear()
                fr = fr.drop([x for x in ("_county", "_day", "_di") if x in fr.columns])
                frng = np.random.default_rng([seed, 6, di, feed_no[f], ci])
                xlsx = f in XLSX_OK and fr.height <= XLSX_MAX_ROWS and frng.random() < messy.xlsx
                out, raw, sci, contract = render(fr, f, frng, messy, d, xlsx)
                if xlsx:
                    path = folder / f"{f}_{cc}.xlsx"
                    write_xlsx(path, out, raw, sci, contract, frng, created)
                else:
                    path = folder / f"{f}_{cc}.csv"
                    write_csv(path, out, str(frng.choice(encs, p=ep)))
                files.append(path)
                rows[f] += out.height
    # truth
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
    return GenerationSummary(
        deliveries=[_d(x) for x in days],
        files=files,
        rows_per_feed=rows,
        seconds=round(time.perf_counter() - t0, 2),
        households=h.H,
        persons=h.P,
        counties=counties,
    )
