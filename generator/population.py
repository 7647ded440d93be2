"""Geography and the synthetic rural population (vectorised)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl

from .ids import build_ids, unique_orders, ymd_of_days

CONFIG = Path(__file__).resolve().parent.parent / "config" / "divisions"
RETIRED_CODES = [152726, 152701, 152722, 152723, 152101, 152601, 412301]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_M = list(
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
)
GIVEN_F = list(
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)

ROLES = ["户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之父", "之母", "之兄弟姐妹", "其他"]
HEALTH = ["健康", "长期慢性病", "患有大病", "残疾", "长期慢性病,残疾"]
LABOUR = ["技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]
EDU = ["文盲或半文盲", "小学", "初中", "高中", "中专", "大专及以上"]


def _choice(rng, n, items, p=None):
    return np.asarray(items, dtype=object)[rng.choice(len(items), n, p=p)]


def load_counties() -> pl.DataFrame:
    return pl.read_csv(
        CONFIG / "counties.csv",
        schema_overrides={"county_code": pl.String, "city_code": pl.String, "province_code": pl.String},
    )


def load_geography(counties: list[str], divisions_file: Path | None, rng) -> pl.DataFrame:
    """One row per village: village_code, village_name, township_name, county_code, county_name."""
    vil = pl.read_csv(CONFIG / "villages.csv", infer_schema=False)
    cnt = load_counties()
    names = dict(zip(cnt["county_code"].to_list(), cnt["county_name"].to_list()))
    full = None
    out = []
    for cc in counties:
        v = vil.filter(pl.col("county_code") == cc)
        cname = names.get(cc, f"县{cc}")
        if v.height == 0 and divisions_file is not None:
            if full is None:
                with gzip.open(divisions_file, "rb") as fh:
                    full = pl.read_csv(fh.read(), infer_schema=False)
            f = full.filter(pl.col("areaCode") == cc)
            if f.height:
                tcodes = f["streetCode"].unique().sort().to_list()
                tn = {
                    t: f"{SURNAMES[(int(t[-3:]) * 7) % len(SURNAMES)]}家{'镇' if int(t[-3:]) < 200 else '乡'}"
                    for t in tcodes
                }
                v = f.select(
                    pl.col("code").alias("village_code"),
                    pl.col("name").alias("village_name"),
                    pl.col("streetCode").alias("township_code"),
                    pl.col("streetCode").replace_strict(tn).alias("township_name"),
                ).with_columns(pl.lit(cc).alias("county_code"), pl.lit(cname).alias("county_name"))
        if v.height == 0:
            nt = 8
            t = np.repeat(np.arange(1, nt + 1), 15)
            vv = np.tile(np.arange(1, 16), nt)
            tc = [f"{cc}{i:03d}" for i in (100 + t)]
            v = pl.DataFrame(
                {
                    "village_code": [f"{a}{b:03d}" for a, b in zip(tc, 200 + vv)],
                    "village_name": [
                        f"{SURNAMES[(i * 5 + j) % len(SURNAMES)]}家{'沟屯营庄湾'[j % 5]}村" for i, j in zip(t, vv)
                    ],
                    "township_code": tc,
                    "township_name": [f"{SURNAMES[(i * 11) % len(SURNAMES)]}{'镇乡'[i % 2]}" for i in t],
                    "county_code": cc,
                    "county_name": cname,
                }
            )
        v = v.select(
            "village_code",
            "village_name",
            "township_code",
            "township_name",
            "county_code",
            pl.lit(cname).alias("county_name"),
        )
        rural = v.filter(
            pl.col("village_name").str.contains("(村|嘎查)")
            & ~pl.col("village_name").str.contains("(社区|居委会|居民委员会)")
        )
        out.append(rural if rural.height else v)
    return pl.concat(out)


def split_households(total: int, weights: np.ndarray) -> np.ndarray:
    w = weights / weights.sum()
    raw = w * total
    base = np.floor(raw).astype(np.int64)
    rem = total - base.sum()
    base[np.argsort(-(raw - base), kind="stable")[:rem]] += 1
    return base


def build_population(rng, geo: pl.DataFrame, counties: list[str], households: int, ref_day: int):
    """Returns (households frame, persons frame). ref_day: int days since epoch (the end date)."""
    vcount = np.array([geo.filter(pl.col("county_code") == c).height for c in counties], dtype=float)
    per = split_households(households, vcount)
    geo_idx = np.arange(geo.height)
    gcounty = geo["county_code"].to_numpy()
    hh_village = (
        np.concatenate([rng.choice(geo_idx[gcounty == c], n) for c, n in zip(counties, per)])
        if households
        else np.zeros(0, np.int64)
    )
    H = len(hh_village)
    county_of = np.concatenate([np.full(n, i) for i, n in enumerate(per)]) if H else np.zeros(0, int)
    seq = np.concatenate([np.arange(1, n + 1) for n in per]) if H else np.zeros(0, int)
    cc_arr = pl.Series(counties, dtype=pl.String).gather(county_of.astype(np.int64))

    size = rng.choice(np.arange(1, 9), H, p=[0.12, 0.22, 0.22, 0.20, 0.13, 0.07, 0.03, 0.01])
    head_age = np.where(size == 1, rng.integers(50, 88, H), np.clip(rng.triangular(26, 52, 82, H), 26, 82).astype(int))
    young = head_age < 50
    spouse = rng.random(H) < 0.85
    parent_flag = rng.random(H) < 0.5
    head_male = rng.random(H) < 0.86
    risk = rng.beta(2, 5, H) + 0.12 * (head_age > 70) + 0.08 * (size == 1)
    risk = np.clip(risk, 0, 1)

    P = int(size.sum())
    ph = np.repeat(np.arange(H), size)
    offs = (np.cumsum(size) - size) if H else np.zeros(0, int)
    k = np.arange(P) - offs[ph]
    hs, ha, hy = size[ph], head_age[ph], young[ph]
    u = rng.random(P)
    role = np.full(P, 11)
    role[k == 0] = 0
    m1 = k == 1
    role[m1] = np.where(spouse[ph][m1], 1, np.where(u[m1] < 0.55, 2, 3))
    kid = (k >= 2) & hy
    role[kid] = np.where(u[kid] < 0.52, 2, 3)
    par = kid & (k == hs - 1) & (hs >= 5) & parent_flag[ph]
    role[par] = np.where(u[par] < 0.4, 8, 9)
    old = (k >= 2) & ~hy
    role[old & (k == 2)] = np.where(u[old & (k == 2)] < 0.7, 2, 3)
    m3 = old & (k == 3)
    role[m3] = np.where(u[m3] < 0.75, 4, 5)
    m4 = old & (k >= 4)
    role[m4] = np.where(u[m4] < 0.52, 6, 7)
    oth = (k >= 2) & (rng.random(P) < 0.02)
    role[oth] = np.where(rng.random(int(oth.sum())) < 0.5, 10, 11)

    age = ha.astype(np.int64).copy()
    n = P
    dev = rng.integers(20, 35, n)
    age = np.where(role == 1, np.clip(ha + rng.integers(-6, 4, n), 18, 95), age)
    age = np.where(np.isin(role, [2, 3]), np.maximum(ha - dev, 0), age)
    age = np.where(np.isin(role, [4, 5]), np.maximum(ha - dev, 18), age)
    age = np.where(np.isin(role, [6, 7]), np.maximum(ha - dev - rng.integers(20, 31, n), 0), age)
    age = np.where(np.isin(role, [8, 9]), np.minimum(ha + rng.integers(22, 33, n), 96), age)
    age = np.where(role == 10, np.clip(ha + rng.integers(-6, 7, n), 16, 95), age)
    age = np.where(role == 11, rng.integers(5, 80, n), age)
    male = np.select(
        [role == 0, role == 1, np.isin(role, [2, 5, 6, 8]), np.isin(role, [3, 4, 7, 9])],
        [head_male[ph], ~head_male[ph], True, False],
        rng.random(n) < 0.5,
    ).astype(bool)
    birth = ref_day - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    age = ((ref_day - birth) / 365.25).astype(np.int64)
    ymd = ymd_of_days(birth)

    home = np.array([int(c) for c in counties])[county_of][ph]
    allc = load_counties()["county_code"].cast(pl.Int64).to_numpy()
    addr = home.copy()
    other = rng.random(n) < 0.03
    addr[other] = rng.choice(allc, int(other.sum()))
    retired = [c for c in RETIRED_CODES if c not in set(allc.tolist())]
    ret = (rng.random(n) < 0.004) & bool(retired)
    if retired:
        addr[ret] = rng.choice(retired, int(ret.sum()))
    order = unique_orders(rng, addr, ymd, male)
    ids = build_ids(addr, ymd, order)

    # names: head's surname for children/grandchildren
    sur_h = rng.integers(0, len(SURNAMES), H)
    sur = np.where(np.isin(role, [0, 2, 3, 6, 7, 8, 10]) & True, sur_h[ph], rng.integers(0, len(SURNAMES), n))
    sur = np.where(role == 0, sur_h[ph], sur)
    g1 = np.where(male, rng.integers(0, len(GIVEN_M), n), rng.integers(0, len(GIVEN_F), n))
    g2 = np.where(male, rng.integers(0, len(GIVEN_M), n), rng.integers(0, len(GIVEN_F), n))
    two = rng.random(n) < 0.7
    gm, gf = pl.Series(GIVEN_M), pl.Series(GIVEN_F)
    i1 = np.where(male, g1 % len(gm), len(gm) + g1 % len(gf))
    i2 = np.where(male, g2 % len(gm), len(gm) + g2 % len(gf))
    allg = pl.Series(GIVEN_M + GIVEN_F)
    c2 = allg.gather(i2)
    c2 = c2.scatter(np.flatnonzero(~two), "")
    names = pl.DataFrame({"s": pl.Series(SURNAMES).gather(sur), "a": allg.gather(i1), "b": c2}).select(
        pl.concat_str(["s", "a", "b"]).alias("n")
    )["n"]

    # health and labour
    hu = rng.random(n)
    p_chronic = np.clip(0.01 + np.maximum(age - 35, 0) * 0.006, 0, 0.45)
    health = np.zeros(n, np.int64)
    health[hu < p_chronic] = 1
    health[(hu >= p_chronic) & (hu < p_chronic + 0.008 + 0.0002 * age)] = 2
    dis = rng.random(n) < 0.02 + 0.0004 * age
    health[dis] = np.where(health[dis] == 1, 4, 3)
    lu = rng.random(n)
    labour = np.select(
        [age < 16, (age < 60) & np.isin(health, [0, 1]), (age < 60), age < 70],
        [
            4,
            np.where(lu < 0.22, 0, np.where(lu < 0.9, 1, 2)),
            np.where(lu < 0.5, 2, 3),
            np.where(lu < 0.35, 1, np.where(lu < 0.85, 2, 3)),
        ],
        np.where(lu < 0.2, 2, np.where(lu < 0.7, 3, 4)),
    )
    # schooling at the reference date
    stage = np.full(n, -1)  # index in STAGES
    su = rng.random(n)
    stage[(age >= 3) & (age <= 6) & (su < 0.85)] = 0
    stage[(age >= 7) & (age <= 12)] = 1
    stage[(age >= 13) & (age <= 15)] = 2
    m = (age >= 16) & (age <= 18)
    stage[m & (su < 0.62)] = 3
    stage[m & (su >= 0.62) & (su < 0.92)] = 4
    m = (age >= 19) & (age <= 22)
    stage[m & (su < 0.22)] = 5
    stage[m & (su >= 0.22) & (su < 0.48)] = 6
    labour = np.where((stage >= 3) & (age < 23), 4, labour)
    grade = np.select(
        [stage == 1, stage == 2, np.isin(stage, [3, 4]), stage == 5, stage == 6],
        [age - 6, age - 12, age - 15, np.minimum(age - 18, 3), np.minimum(age - 18, 4)],
        0,
    )
    eu = rng.random(n)
    edu = np.select(
        [
            stage == 0,
            stage == 1,
            stage == 2,
            np.isin(stage, [3, 4]),
            np.isin(stage, [5, 6]),
            age < 7,
            age > 65,
            age > 40,
        ],
        [
            -1,
            1,
            1,
            2,
            3,
            -1,
            np.where(eu < 0.35, 0, np.where(eu < 0.8, 1, 2)),
            np.where(eu < 0.3, 1, np.where(eu < 0.8, 2, np.where(eu < 0.92, 3, np.where(eu < 0.97, 4, 5)))),
        ],
        np.where(eu < 0.05, 1, np.where(eu < 0.5, 2, np.where(eu < 0.7, 3, np.where(eu < 0.82, 4, 5)))),
    )
    work = np.where(np.isin(labour, [0, 1]) & (rng.random(n) < 0.55), rng.integers(3, 13, n), 0)

    ethnic_mn = np.isin(county_of[ph], [i for i, c in enumerate(counties) if c.startswith("15")]) & (
        rng.random(n) < 0.18
    )

    hh = pl.DataFrame(
        {
            "hidx": np.arange(H),
            "county_code": cc_arr,
            "county_idx": county_of,
            "household_id": pl.DataFrame({"c": cc_arr, "s": seq})
            .select(pl.concat_str([pl.col("c"), pl.col("s").cast(pl.String).str.zfill(9)]))
            .to_series(),
            "village_idx": hh_village,
            "size": size,
            "risk": risk,
            "head_age": head_age,
        }
    )
    hh = hh.with_columns(
        geo["village_code"].gather(hh_village.astype(np.int64)).alias("village_code"),
        geo["village_name"].gather(hh_village.astype(np.int64)).alias("village_name"),
        geo["township_name"].gather(hh_village.astype(np.int64)).alias("township_name"),
        geo["county_name"].gather(hh_village.astype(np.int64)).alias("county_name"),
    )
    persons = pl.DataFrame(
        {
            "pidx": np.arange(n),
            "hidx": ph,
            "k": k,
            "role": role,
            "age": age,
            "male": male,
            "birth": birth,
            "id_number": ids,
            "name": names,
            "health": health,
            "labour": labour,
            "stage": stage,
            "grade": grade,
            "edu": edu,
            "work": work,
            "mongol": ethnic_mn,
            "addr": addr,
        }
    )
    return hh, persons
