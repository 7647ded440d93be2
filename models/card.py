"""The model card (card.md beside the artifact); its calibration chart is calibration.png (charts.calibration)."""

from __future__ import annotations

ROWS = (
    ("rules_alone", "规则（全部命中户）"),
    ("model_equal_workload", "模型（同等走访量，每村与规则同数）"),
    ("rules_at_capacity", "规则（每村每周上限内，高严重度优先）"),
    ("model_at_capacity", "模型（每村每周上限内，概率最高者）"),
    ("rules_plus_model_warnings", "规则 + 模型预警（上线配置）"),
)


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
        f"- 是否启用：{'是' if gate['promoted'] else '否'}（同等走访量下不差于规则：{'是' if gate['beats_rules_at_equal_workload'] else '否'}；"
        f"ROC-AUC ≥ {gate['min_auc']}：{'是' if gate['auc_ok'] else '否'}）",
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
    lines += ["## 校准", "", "| 预测概率均值 | 实际比例 | 户数 |", "|---|---|---|"]
    lines += [f"| {b['predicted']:.3f} | {b['observed']:.3f} | {b['n']:,} |" for b in card["validation"]["calibration"]]
    lines += ["", "校准图：calibration.png（Dagster 界面中见 calibration_chart）。", "", "## 特征", ""]
    lines += [f"- `{n}`：{card['feature_labels_zh'][n]}" for n in card["features"]]
    lines += ["", "参考：公开发表的基于建档立卡数据的逻辑回归 AUC 为 0.71；各县反映部门预警约 2% 最终纳入。", ""]
    return "\n".join(lines)
