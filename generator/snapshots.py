"""The county's feeds on a given day, built from the hidden history: the snapshot feeds (roster, income, civil
assistance, students, medical enrolment, housing safety), and the records the increment feeds are cut from."""

from __future__ import annotations

import numpy as np
import polars as pl

from .events import civil_records, claims, housing, students
from .history import CATEGORIES, HTYPES, NA, History
from .population import EDU, HEALTH, LABOUR, ROLES
from .series import _L, _N, _S, _W, _datecol, _year
from .workflow_events import workflow

STAGES = ["学前教育", "小学", "初中", "普通高中", "中等职业教育", "高等职业教育", "本科"]
CN_NUM = ["", "一", "二", "三", "四", "五", "六"]
ASSIST = ["农村低保", "农村特困供养", "临时救助", "困难残疾人生活补贴", "重度残疾人护理补贴"]
GRADES = ["A", "B", "C", "D"]
METHODS = ["危房改造", "易地搬迁", "农房抗震改造", "租赁", "其他"]
RSTATUS = ["无需改造", "未改造", "改造中", "已竣工"]
PSTATUS = ["正常", "死亡", "迁出", "失联"]
GROUP_NAMES = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
HOUSEHOLDS_PER_GROUP = 40
NO_GROUP_EVERY = 20  # one household in this many has no 村民小组 on record


def village_groups(hh: pl.DataFrame) -> pl.Series:
    """Each household's 村民小组 (一组, 二组, …): a village's households in order of their index, cut into groups of
    about HOUSEHOLDS_PER_GROUP (at most twelve); every NO_GROUP_EVERY-th household has none. Drawn without the
    random generator, so that adding the column changed no other value of a seeded run."""
    rank = pl.col("hidx").rank("ordinal").over("village_idx") - 1
    size = pl.len().over("village_idx")
    groups = (size // HOUSEHOLDS_PER_GROUP).clip(1, len(GROUP_NAMES))
    number = hh.select((rank * groups // size).cast(pl.Int64).alias("g"))["g"].to_numpy()
    names = np.char.add(np.asarray(GROUP_NAMES, dtype=object)[number].astype(str), "组").astype(object)
    names[hh["hidx"].to_numpy() % NO_GROUP_EVERY == NO_GROUP_EVERY - 1] = None
    return pl.Series("village_group", names.tolist(), dtype=pl.String)


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
                "village_group": village_groups(hh).gather(ph),
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
