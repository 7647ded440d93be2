"""The workbook's 说明 sheet: the screening rules, exclusion checks and parameters in force on the delivery date, all
read from the policy (the rule registry, docs/policy.md), and for each row the changes the policy file schedules after
that date (计划变更).

Each row is built for the policy in force on the day and again for the policy in force from each later change date;
a row whose values differ then names the date and the new values, a row that appears only later is listed as 计划新增.
"""

from __future__ import annotations

from datetime import date

from fangfanpin.config.policy import Policy, PolicyError
from fangfanpin.config.rules import show
from fangfanpin.deliverables.xlsx import Col, percent_text

EXCLUSION_MEANINGS = {
    "EXC-VEHICLE": "比对：家庭成员登记有机动车",
    "EXC-HOUSE": "比对：家庭成员拥有城镇商品房",
    "EXC-BUSINESS": "比对：家庭成员有工商登记",
    "EXC-PUBLIC": "比对：家庭成员为财政供养人员",
    "EXC-ASSETS": "比对：家庭金融资产超过监测范围×家庭人口的倍数",
}
MODEL_MEANING = (
    "模型预警：该户没有触发任何规则，但模型根据各部门数据估计，它今后被确认为监测对象的可能性明显高于一般农户；"
    "每村每周按可能性从高到低派发，不超过走访容量。它只说明值得上门看一看，不代表该户已有风险，"
    "走访后按实际情况填写结论。原因栏列出使可能性升高最多的两三项情况"
)
COLUMNS = [
    Col("类别", "kind"),
    Col("代码", "code"),
    Col("名称", "name"),
    Col("含义", "meaning", width=50),
    Col("风险类型", "risk_type"),
    Col("严重程度", "severity", "level"),
    Col("阈值/取值", "thresholds", width=60),
    Col("计划变更", "upcoming", width=40),
]
_COMPARED = {
    "类别": "kind",
    "名称": "name",
    "含义": "meaning",
    "风险类型": "risk_type",
    "严重程度": "severity",
    "阈值/取值": "thresholds",
}


def _params(policy: Policy, values) -> str:
    return "；".join(f"{policy.parameter_name(k)}：{show(v)}" for k, v in values.items())


def _rows(policy: Policy, day: date, model: str | None) -> dict[tuple, dict]:
    """The sheet's rows for ``policy`` (already the one in force), keyed by what they describe."""
    out: dict[tuple, dict] = {}

    def add(key: tuple, kind: str, code: str = "", name: str = "", meaning: str = "", **more) -> None:
        out[key] = {"kind": kind, "code": code, "name": name, "meaning": meaning, "risk_type": "", "severity": ""}
        out[key] |= {"thresholds": ""} | more

    for rule in policy.rules.values():
        add(
            ("rule", rule.code),
            "部门筛查规则" if rule.enabled else "部门筛查规则（已停用）",
            rule.code,
            rule.name,
            rule.description_zh(),
            risk_type=rule.risk_type_zh(),
            severity=rule.severity,
            thresholds=_params(policy, rule.params),
        )
    for code, values in policy.exclusion.items():
        add(
            ("exclusion", code),
            "比对排除情形",
            code,
            meaning=EXCLUSION_MEANINGS.get(code, ""),
            thresholds=_params(policy, values),
        )
    lv, wf = policy.risk_levels, policy.workflow
    add(
        ("model",),
        "模型预警",
        "MODEL",
        meaning=MODEL_MEANING,
        thresholds=f"每村每周最多 {lv.model_capacity_per_village_per_week} 户；"
        f"模型概率不低于训练数据中平均水平的 {lv.model_warning_min_lift:g} 倍",
    )

    def param(name, value):
        add(("param", name), "参数", meaning=name, thresholds=str(value))

    param(f"{day.year} 年监测范围（元/人/年）", f"{policy.monitoring_line(day.year):,.0f}")
    try:
        param(f"{day.year - 1} 年农村居民人均可支配收入（元）", f"{policy.rural_income_prior_year(day.year):,.0f}")
    except PolicyError:  # a missing year is reported in the sheet, not fatal here
        param(f"{day.year - 1} 年农村居民人均可支配收入（元）", "政策文件未配置")
    param("风险等级 高", f"触发任一“高”级规则，或模型概率 ≥ {percent_text(lv.high_probability)}")
    param("风险等级 中", f"触发其他规则，或模型概率 ≥ {percent_text(lv.medium_probability)}")
    param("风险等级 低", "其他")
    param(
        "走访优先级",
        "排查任务和村级任务单按优先级排列：先看规则严重程度（高、中、未触发规则），同等严重程度再按模型概率从高到低；"
        "走不完时先走访靠前的农户",
    )
    param("规则严重程度", "触发的规则中最高的严重程度（高/中），见上方各规则；只由模型预警的农户为空")
    param(
        "模型概率",
        f"模型估计该户在 {policy.model.horizon_days} 天内被确认为监测对象的概率（按历史确认情况校准），"
        "以百分数显示：0.34% 表示同类农户中约千分之三会被确认；它不是评分，"
        "用于决定风险等级、模型预警和走访先后；未启用模型时为空",
    )
    param("模型预警走访容量", f"每村每周 {lv.model_capacity_per_village_per_week} 户")
    param("待排查时限（工作日）", wf.pending_visit_working_days)
    param("比对异常复核时限（工作日）", wf.review_anomaly_working_days)
    param("公示最短天数（自然日，含首尾）", wf.publication_min_days)
    param("立案至县级决定总时限（工作日）", wf.total_working_days)
    param("不予纳入冷却期（天）", wf.declined_cooldown_days)
    param("绿色通道风险类型", "、".join(wf.green_channel_risk_types))
    param("风险消除：最短监测月数", policy.elimination_min_monitored_months)
    param("风险消除：无规则预警天数", policy.elimination_no_rule_days)
    param("模型版本", model or "尚未启用模型（风险等级仅按规则，模型概率为空）")
    param("政策文件", policy.path.name)
    since = policy.in_force_from
    param(
        "政策取值", f"政策文件取值，含 {since.isoformat()} 起生效的变更" if since else "政策文件取值（无已生效的变更）"
    )
    return out


def _difference(now: dict, later: dict) -> str:
    return "；".join(f"{label}：{later[key] or '无'}" for label, key in _COMPARED.items() if now[key] != later[key])


def notes(policy: Policy, day: date, model: str | None):
    """The 说明 sheet's columns and rows for ``day`` (with the policy in force on ``day``)."""
    policy = policy.as_of(day)
    rows = _rows(policy, day, model)
    for row in rows.values():
        row["upcoming"] = ""
    added: dict[tuple, dict] = {}
    before = rows
    for change in policy.upcoming(day):
        later = _rows(policy.as_of(change.start), day, model)
        when = f"{change.start.isoformat()} 起"
        notes_of = {key: f"{when}不再适用" for key in before if key not in later}
        for key, row in later.items():
            if key not in before:
                if key not in rows and key not in added:
                    added[key] = row | {"kind": f"{row['kind']}（计划新增）", "upcoming": f"{when}生效"}
            elif diff := _difference(before[key], row):
                notes_of[key] = f"{when}，{diff}"
        for key, note in notes_of.items():
            target = rows.get(key) or added.get(key)
            if target is not None:
                target["upcoming"] = "；".join(x for x in (target["upcoming"], note) if x)
        before = later
    ordered = list(rows.values())
    params_from = next((i for i, r in enumerate(ordered) if r["kind"] == "参数"), len(ordered))
    return COLUMNS, ordered[:params_from] + list(added.values()) + ordered[params_from:]
