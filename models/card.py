"""The model card (card.md beside the artifact); its calibration chart is calibration.png (charts.calibration)."""

from __future__ import annotations

from fangfanpin.models.reach import HOUSEHOLD_TYPES_ZH

GATE_LABELS = (
    ("auc_ok", "ROC-AUC ≥ {min_auc}"),
    ("beats_rules_at_equal_workload", "同等走访量下不差于规则"),
    ("production_gain", "上线配置召回率提升 ≥ {min_recall_gain} 且区间下限 > 0、多走访 ≤ {max_extra_visits:.0%}"),
    ("fair_by_household_type", "各类农户（正样本 ≥ {type_min_positives}）召回率 ≥ 规则的 {min_type_recall_share:.0%}"),
)

ROWS = (
    ("rules_alone", "规则（全部命中户）"),
    ("model_equal_workload", "模型（同等走访量，每村与规则同数）"),
    ("rules_at_capacity", "规则（每村每周上限内，高严重度优先）"),
    ("model_at_capacity", "模型（每村每周上限内，概率最高者）"),
    ("production", "规则 + 模型预警（上线配置：每日运行实际派发的走访）"),
)
ORDERS = (
    ("rules_order", "按规则排序（高严重度优先，再按命中规则数）"),
    ("priority_order", "按优先级排序（上线使用：严重程度优先，再按模型概率）"),
    ("probability_order", "仅按模型概率排序（备选）"),
)
GROUPS = (("rules_alone", "仅规则"), ("model_equal_workload", "模型（同等走访量）"), ("production", "上线配置"))


def _fmt(value) -> str:
    return "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def _section(title: str, m: dict | None, capacity: int) -> list[str]:
    if not m:
        return []
    lines = [
        f"## {title}",
        "",
        f"验证行数 {m['rows']:,}，正样本 {m['positives']:,}（基准率 {_fmt(m['model']['base_rate'])}）。",
        "",
        "| | ROC-AUC | PR-AUC | Brier |",
        "|---|---|---|---|",
        f"| 模型 | {_fmt(m['model']['roc_auc'])} | {_fmt(m['model']['pr_auc'])} | {_fmt(m['model']['brier'])} |",
        f"| 仅规则 | {_fmt(m['rules']['roc_auc'])} | {_fmt(m['rules']['pr_auc'])} | — |",
        "",
        f"走访量（每个特征日期按一周计，每村上限 {capacity} 户；召回率的分母为该日全部未监测户中的正样本）：",
        "",
        "| 选择方式 | 走访户数 | 命中 | 精确率 | 召回率 |",
        "|---|---|---|---|---|",
    ]
    for key, label in ROWS:
        r = m["workload"][key]
        lines.append(
            f"| {label} | {r['workload']:,} | {r['true_positives']:,} | {r['precision']:.3f} | {r['recall']:.3f} |"
        )
    w = m["workload"]
    prod, gain = w["production"], m["production_gain"]
    lo, hi = gain["ci95"]
    extra = prod["workload"] / w["rules_alone"]["workload"] - 1 if w["rules_alone"]["workload"] else 0.0
    lines += [
        "",
        f"**上线配置比仅规则多走访 {prod['workload'] - w['rules_alone']['workload']:,} 户（{extra:+.1%}），"
        f"召回率差 {gain['difference']:+.3f}，95% 区间 [{_fmt(lo)}, {_fmt(hi)}]**"
        f"（按户有放回重抽样 {gain['resamples']} 次，固定随机种子；模型预警 {prod['model_warnings']:,} 户，"
        f"概率下限 {prod['min_probability'] * 100:.2f}%，即训练窗口基准率的 {card_lift(m)} 倍）。"
        "上线配置包含规则的全部走访，召回率差不会小于 0；区间说明验证窗口正样本少时这一差值有多大不确定性。",
        "",
        "每村前 k 项任务内的召回率（每个特征日期、每村按顺序取前 k 项；分母为全部正样本）：",
        "",
        "| 任务顺序 | k=1 | k=3 | k=5 |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {label} | " + " | ".join(f"{m['first_k'][key][k]:.3f}" for k in ("1", "3", "5")) + " |"
        for key, label in ORDERS
    ]
    lines += _groups("按户类型", m["by_household_type"], HOUSEHOLD_TYPES_ZH)
    lines += _groups("按乡镇", m["by_township"], {})
    equal = w["model_equal_workload"]["recall"] - w["rules_alone"]["recall"]
    cap = w["model_at_capacity"]["recall"] - w["rules_at_capacity"]["recall"]
    lines += [
        "",
        (
            "**结论：同等走访量下，模型召回率高于仅规则**"
            if equal > 0
            else "**结论：同等走访量下，模型召回率不高于仅规则**"
            if equal < 0
            else "**结论：同等走访量下，模型与规则召回率相同**"
        )
        + f"（差 {equal:+.3f}；每村每周上限内差 {cap:+.3f}）。",
        "",
    ]
    return lines


def card_lift(m: dict) -> str:
    base, floor = m.get("base_rate_trained") or 0, m["workload"]["production"]["min_probability"]
    return f"{floor / base:.1f}" if base else "—"


def _groups(title: str, groups: dict, names: dict) -> list[str]:
    lines = ["", f"召回率{title}（上线配置不会低于仅规则；模型一列看模型排序是否忽视某类农户）：", ""]
    lines += ["| " + title[1:] + " | 行数 | 正样本 | " + " | ".join(label for _, label in GROUPS) + " |"]
    lines += ["|---|---|---|" + "---|" * len(GROUPS)]
    for name, r in groups.items():
        lines.append(
            f"| {names.get(name, name)} | {r['rows']:,} | {r['positives']} | "
            + " | ".join(_fmt(r[key]) for key, _ in GROUPS)
            + " |"
        )
    return lines


def _backtest(b: dict | None) -> list[str]:
    if not b or not b["windows"]:
        return []
    g = b["recall_gain"]
    lines = [
        "## 滚动回测（上线配置 vs 仅规则）",
        "",
        "每个窗口为一个月末日期，用它之前的全部日期重新训练同类模型后评估（仓库标签）。",
        "",
        "| 窗口 | 训练日期数 | 正样本 | ROC-AUC | 仅规则召回率 | 上线配置召回率 | 召回率差 | 多走访 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {w['date']} | {w['train_dates']} | {w['positives']} | {_fmt(w['roc_auc'])} | {w['rules_recall']:.3f} | "
        f"{w['production_recall']:.3f} | {w['recall_gain']:+.3f} | "
        + ("—" if w["extra_visits"] is None else f"{w['extra_visits']:+.1%}")
        + " |"
        for w in b["windows"]
    ]
    lines += [
        "",
        f"召回率差：均值 {_fmt(g['mean'])}，标准差 {_fmt(g['std'])}，最低 {_fmt(g['min'])}，最高 {_fmt(g['max'])}。",
        "",
    ]
    return lines


def render_card(card: dict) -> str:
    capacity = card["policy"]["capacity_per_village_per_week"]
    gate = card["gate"]
    lines = [
        f"# 防返贫风险模型 {card['version'] if 'version' in card else ''}".rstrip(),
        "",
        f"- 模型：{card['model_type']}（{card['calibration']} 概率校准；"
        + ("类别权重平衡" if card["model_type"] == "logistic_regression" else "对数损失，无类别权重")
        + (f"；负样本抽样，先验校正权重 {card['negative_weight']:.2f}" if card.get("negative_weight", 1) != 1 else "")
        + "）",
        f"- 标签：特征日期后 {card['horizon_days']} 天内被确认为监测对象（县级确认纳入或花名册风险识别时间）；特征日期当天已是监测户的家庭不参与",
        f"- 训练日期：{', '.join(card['training_dates'])}",
        f"- 验证日期（按时间切分）：{', '.join(card['validation_dates'])}",
        f"- 启用模型用全部日期重新拟合：{', '.join(card['refit_dates'])}",
        f"- 数据指纹 `{card['data_fingerprint'][:16]}`，代码版本 `{card['code_version']}`",
        f"- 是否启用：{'是' if gate['promoted'] else '否'}（"
        + "；".join(f"{label.format(**gate)}：{'是' if gate.get(key) else '否'}" for key, label in GATE_LABELS)
        + "）",
        f"- 模型预警：未触发规则的非监测户按概率从高到低，填满每村每周 {capacity} 户的走访容量，"
        f"且概率不低于训练窗口基准率的 {card['policy'].get('model_warning_min_lift', '—')} 倍",
        "- 预警原因：对每户逐一把某个特征换成训练数据的中位数后重新计算概率，概率下降最多的 2–3 个特征即该户的主要原因"
        "（下降不足该户概率 5% 的不列）；只说明模型为何给出该概率，不代表因果",
        "",
        "候选模型（验证窗口）：",
        "",
        "| 候选 | ROC-AUC | PR-AUC |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {_fmt(m['roc_auc'])} | {_fmt(m['pr_auc'])} |" for n, m in card["candidates"].items()]
    lines.append("")
    lines += _section("验证窗口（仓库标签：以后交付中的确认纳入）", card["validation"], capacity)
    lines += _section("验证窗口（生成器真值：仅用于评估，从未用于训练）", card.get("truth_validation"), capacity)
    if card.get("truth_validation"):
        lines += [
            "说明：真值正样本是观察期内真实发生返贫风险且尚未纳入的家庭；仓库标签只包含其中最终被县级确认纳入的家庭，"
            "带有现行工作流程的选择偏差（规则命中、提出申请的家庭更容易被确认）。模型学的是「会被确认」，规则直接描述风险事实，"
            "所以在规则的全部走访量下规则召回率可能更高；在村里实际能走访的上限内，排序更重要。",
            "",
        ]
    lines += _backtest(card.get("backtest"))
    lines += ["## 校准", "", "| 预测概率均值 | 实际比例 | 户数 |", "|---|---|---|"]
    lines += [f"| {b['predicted']:.3f} | {b['observed']:.3f} | {b['n']:,} |" for b in card["validation"]["calibration"]]
    lines += ["", "校准图：calibration.png（Dagster 界面中见 calibration_chart）。", "", "## 特征", ""]
    lines += [f"- `{n}`：{card['feature_labels_zh'][n]}" for n in card["features"]]
    lines += ["", "参考：公开发表的基于建档立卡数据的逻辑回归 AUC 为 0.71；各县反映部门预警约 2% 最终纳入。", ""]
    return "\n".join(lines)
