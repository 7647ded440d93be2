"""The risk model's features: one SQL expression per feature over ``household_indicators`` (alias ``h``) of one date.

Every feature is computed from the point-in-time indicators of its as_of_date only (the cross-check builds them from
``<feed>_asof(d)`` and events dated on or before d). ``DATE_COLUMNS`` lists the dated indicator columns the features
read; ``check_no_future`` refuses a frame whose dates lie after its as_of_date (a feature computed later leaking in).
Label columns (monitored, risk_identified_date, monitoring_category, risk_type_1) are never features.

Each feature has a Chinese label and the phrases used when it raises a household's risk (high / low value).
Left out on purpose: whether a village cadre visited recently (a process signal: it makes the model imitate the
workflow rather than rank need; on the generated county it lowered ROC-AUC against the ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

from fangfanpin.config.policy import Policy


@dataclass(frozen=True)
class Feature:
    name: str
    sql: str  # over household_indicators h; parameters of feature_params (the policy in force on the as_of_date)
    label_zh: str
    high_zh: str  # the phrase when a high value raises the risk; {unsafe_grades} from feature_phrases
    low_zh: str  # the phrase when a low value raises the risk
    columns: tuple[str, ...]


def _f(name, sql, label, high, low, *columns) -> Feature:
    return Feature(name, sql, label, high, low, tuple(columns))


FEATURES: tuple[Feature, ...] = (
    _f(
        "type_poverty",
        "(h.household_type = '脱贫户')::DOUBLE",
        "户类型为脱贫户",
        "脱贫户",
        "非脱贫户",
        "household_type",
    ),
    _f(
        "type_former_monitored",
        "(h.household_type = '监测户')::DOUBLE",
        "曾为监测户（风险已消除）",
        "曾为监测户（风险已消除）",
        "非曾监测户",
        "household_type",
    ),
    _f("members_living", "h.members_living::DOUBLE", "家庭在世人数", "家庭人口多", "家庭人口少", "members_living"),
    _f("labour_count", "h.labour_count::DOUBLE", "家庭劳动力人数", "家庭劳动力多", "家庭劳动力少", "labour_count"),
    _f(
        "labour_share",
        "h.labour_count / greatest(h.members_living, 1)",
        "劳动力占比",
        "劳动力占比高",
        "劳动力占比低",
        "labour_count",
        "members_living",
    ),
    _f(
        "income_ratio",
        "least(h.income_position / $line, 5)",
        "人均收入与监测范围之比",
        "家庭人均收入较高",
        "家庭人均收入接近或低于监测范围",
        "income_position",
    ),
    _f(
        "income_missing",
        "(h.income_position IS NULL)::DOUBLE",
        "缺少收入数据",
        "缺少收入数据",
        "有收入数据",
        "income_position",
    ),
    _f(
        "income_drop",
        "CASE WHEN h.prev_net_income_per_capita > 0 THEN greatest(least(1 - h.net_income_per_capita"
        " / h.prev_net_income_per_capita, 1), -1) END",
        "人均纯收入同比降幅",
        "人均纯收入同比下降",
        "人均纯收入同比上升",
        "net_income_per_capita",
        "prev_net_income_per_capita",
    ),
    _f(
        "log_oop_12m",
        "ln(1 + greatest(h.oop_12m, 0))",
        "近12个月个人负担医疗费用",
        "近12个月个人负担医疗费用较高",
        "近12个月个人负担医疗费用较低",
        "oop_12m",
    ),
    _f(
        "oop_settlements",
        "least(h.oop_settlements, 50)::DOUBLE",
        "近12个月自付结算次数",
        "近12个月就医结算次数多",
        "近12个月就医结算次数少",
        "oop_settlements",
    ),
    _f(
        "catastrophic_stays",
        "h.catastrophic_stays::DOUBLE",
        "近期大额住院次数",
        "近期有大额住院",
        "近期无大额住院",
        "catastrophic_stays",
    ),
    _f(
        "uninsured_members",
        "h.uninsured_members::DOUBLE",
        "未参保人数",
        "有家庭成员未参保",
        "家庭成员均已参保",
        "uninsured_members",
    ),
    _f("dropouts", "h.dropouts::DOUBLE", "义务教育阶段辍学人数", "有义务教育阶段辍学", "无辍学", "dropouts"),
    _f(
        "children_missing_school",
        "h.children_missing_school::DOUBLE",
        "学龄儿童无学籍人数",
        "有学龄儿童无学籍记录",
        "学龄儿童均有学籍",
        "children_missing_school",
    ),
    _f(
        "post_compulsory_students",
        "h.post_compulsory_students::DOUBLE",
        "高中及以上在读人数",
        "高中及以上在读人数多",
        "无高中及以上在读",
        "post_compulsory_students",
    ),
    _f(
        "housing_unsafe",
        "(list_contains($unsafe_grades, h.housing_grade) AND coalesce(h.renovation_status, '') <> '已竣工')::DOUBLE",
        "住房为未改造危房",
        "住房为未改造的{unsafe_grades}级危房",
        "住房安全",
        "housing_grade",
        "renovation_status",
    ),
    _f(
        "housing_grade_b",
        "(h.housing_grade = 'B')::DOUBLE",
        "住房鉴定为B级",
        "住房鉴定为B级",
        "住房非B级",
        "housing_grade",
    ),
    _f(
        "dibao_covered",
        "h.dibao_covered::DOUBLE",
        "享受低保或特困供养",
        "正在享受低保或特困供养",
        "未享受低保",
        "dibao_covered",
    ),
    _f(
        "new_dibao_180d",
        "coalesce(h.new_dibao_start > h.as_of_date - 180, false)::DOUBLE",
        "近180天新纳入低保",
        "近180天新纳入低保或特困",
        "近期未新纳入低保",
        "new_dibao_start",
    ),
    _f(
        "temp_aid_180d",
        "coalesce(h.temp_aid_start > h.as_of_date - 180, false)::DOUBLE",
        "近180天获临时救助",
        "近180天获临时救助",
        "近期无临时救助",
        "temp_aid_start",
    ),
    _f(
        "disability_365d",
        "coalesce(h.disability_subsidy_start > h.as_of_date - 365, false)::DOUBLE",
        "近一年新获残疾人补贴",
        "近一年新获残疾人补贴",
        "近期无新残疾补贴",
        "disability_subsidy_start",
    ),
    _f(
        "dibao_exit_365d",
        "coalesce(h.dibao_exit_date > h.as_of_date - 365, false)::DOUBLE",
        "近一年退出低保",
        "近一年退出低保",
        "近期未退出低保",
        "dibao_exit_date",
    ),
    _f(
        "water_unsafe",
        "(coalesce(h.roster_water_unsafe, false) OR coalesce(h.visit_water_secured = false, false))::DOUBLE",
        "饮水安全未保障",
        "饮水安全未保障",
        "饮水安全有保障",
        "roster_water_unsafe",
        "visit_water_secured",
    ),
    _f(
        "log_financial_assets",
        "ln(1 + greatest(h.financial_assets, 0))",
        "家庭金融资产",
        "家庭金融资产较多",
        "家庭金融资产少",
        "financial_assets",
    ),
    _f("vehicles", "least(h.vehicles, 5)::DOUBLE", "家庭车辆数", "家庭有车辆", "家庭无车辆", "vehicles"),
    _f(
        "businesses",
        "least(h.businesses, 5)::DOUBLE",
        "家庭经营主体数",
        "家庭有经营主体",
        "家庭无经营主体",
        "businesses",
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
# The standard risk type a model warning names when the feature is among its main contributions (else 其他).
FEATURE_RISK_TYPES: dict[str, str] = {
    "log_oop_12m": "因病",
    "oop_settlements": "因病",
    "catastrophic_stays": "因病",
    "uninsured_members": "家庭成员未参加基本医疗保险",
    "dropouts": "义务教育阶段失学辍学",
    "children_missing_school": "义务教育阶段失学辍学",
    "post_compulsory_students": "因学",
    "housing_unsafe": "住房出现安全问题",
    "housing_grade_b": "住房出现安全问题",
    "labour_count": "缺劳动力",
    "labour_share": "缺劳动力",
    "income_drop": "因务工就业不稳",
    "disability_365d": "因残",
    "water_unsafe": "饮水安全问题",
}
FEATURE_LABELS_ZH: dict[str, str] = {f.name: f.label_zh for f in FEATURES}
LABEL_COLUMNS = frozenset({"monitored", "risk_identified_date", "monitoring_category", "risk_type_1"})
DATE_COLUMNS: tuple[str, ...] = (
    "new_dibao_start",
    "temp_aid_start",
    "disability_subsidy_start",
    "dibao_exit_date",
    "visit_date",
    "oop_last_date",
    "catastrophic_last_date",
    "housing_assessment_date",
    "income_visit_date",
)
ID_COLUMNS = ("as_of_date", "county_code", "township", "village_code", "household_id", "household_type", "monitored")


class LeakageError(ValueError):
    """Feature data dated after the feature date."""


def feature_params(day: date, policy: Policy) -> dict:
    """The bound values the feature SQL reads: the monitoring line and HOU-UNSAFE's grades in force on ``day``."""
    policy = policy.as_of(day)
    return {"line": policy.monitoring_line(day.year), "unsafe_grades": list(policy.rule("HOU-UNSAFE").value("grades"))}


def feature_phrases(policy: Policy) -> dict:
    """The values the features' Chinese phrases name."""
    return {"unsafe_grades": "/".join(policy.rule("HOU-UNSAFE").value("grades"))}


def feature_select() -> str:
    """The SELECT list of every feature, in FEATURE_NAMES order (aliases ``f_<name>``)."""
    return ", ".join(f"({f.sql})::DOUBLE AS f_{f.name}" for f in FEATURES)


def future_dates_sql() -> str:
    """A condition true when any dated column the features read lies after the row's as_of_date."""
    return " OR ".join(f"h.{c} > h.as_of_date" for c in DATE_COLUMNS)


def check_no_future(con: duckdb.DuckDBPyConnection, dates: list) -> None:
    """Refuse feature dates whose indicator rows carry facts dated after the feature date."""
    if not dates:
        return
    rows = con.execute(
        f"SELECT as_of_date, count(*) FROM household_indicators h WHERE as_of_date IN "
        f"(SELECT unnest(?::DATE[])) AND ({future_dates_sql()}) GROUP BY 1 ORDER BY 1",
        [list(dates)],
    ).fetchall()
    if rows:
        raise LeakageError(
            "feature rows carry facts dated after their feature date: "
            + ", ".join(f"{d} ({n} households)" for d, n in rows)
        )


def matrix(frame, prefix: str = "f_") -> np.ndarray:
    """The feature matrix (float64, NaN for missing) from a polars frame with ``f_<name>`` columns."""
    return frame.select([prefix + n for n in FEATURE_NAMES]).to_numpy().astype(np.float64, copy=False)


def validate_features() -> None:
    names = [f.name for f in FEATURES]
    assert len(set(names)) == len(names), "duplicate feature names"
    for f in FEATURES:
        bad = LABEL_COLUMNS & set(f.columns)
        if bad:
            raise LeakageError(f"feature {f.name} reads label column(s) {sorted(bad)}")


validate_features()
