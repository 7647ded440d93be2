"""Risk model assets: thin Dagster wrappers around ``models``.

- ``scoring/household_scores`` (daily, partitioned, group "scoring"): every household's probability, level 高/中/低,
  model warnings within the villages' weekly capacity, reasons in Chinese; a WARN check compares today's features
  with the training data (PSI) and names the features that moved.
- ``scoring/risk_model`` (unpartitioned, group "model_training"): trains, evaluates against the rules, stores a
  versioned skops artifact with its card, and promotes it only when it passes; run weekly by
  ``weekly_training_schedule`` or on demand (``training_job``), never by the daily job.
No household id or ID number reaches metadata: only counts, metrics and feature names.

``fangfanpin.models`` is imported inside the assets: it imports scikit-learn, which takes about a second, and the code
location (the UI, the sensor) loads these definitions far more often than it scores.
"""

from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    TableColumn,
    TableSchema,
    asset,
    asset_check,
    define_asset_job,
    in_process_executor,
    schedule,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, OWNER
from fangfanpin.assets.metadata import markdown_table, table_schema
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.charts import calibration, chart_md, risk_levels_by_township
from fangfanpin.models.features import FEATURE_LABELS_ZH, FEATURE_NAMES

SCORING_GROUP = "scoring"
TRAINING_GROUP = "model_training"
SCORES_KEY = AssetKey(["scoring", "household_scores"])
MODEL_KEY = AssetKey(["scoring", "risk_model"])
_INDICATORS = AssetKey(["crosscheck", "household_indicators"])
_RULE_HITS = AssetKey(["crosscheck", "rule_hits"])
# the model's inputs, one column per feature (the training rows are household × month-end feature date)
FEATURES_SCHEMA = TableSchema(
    columns=[TableColumn(n, "double", description=FEATURE_LABELS_ZH[n]) for n in FEATURE_NAMES]
)


@asset(
    key=SCORES_KEY,
    deps=[_INDICATORS, _RULE_HITS],
    group_name=SCORING_GROUP,
    kinds={"duckdb", "scikitlearn"},
    owners=[OWNER],
    partitions_def=DELIVERY_PARTITIONS,
    description="风险评分：每户一个模型概率（无启用模型时为空）；风险等级 高/中/低 按政策文件由规则严重程度和概率共同决定；"
    "无规则命中但概率较高的家庭成为「模型预警」候选，每村每周不超过走访上限；每个评分列出主要贡献特征（中文）。"
    "Table `household_scores`.",
)
def household_scores(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    from fangfanpin.models.artifacts import usable_promoted
    from fangfanpin.models.scoring import score_households

    day = date.fromisoformat(context.partition_key)
    policy = settings.policy()
    loaded, unusable = usable_promoted(settings.resolve().model_dir)
    with warehouse.get_connection() as con:
        rows = score_households(con, day, policy, loaded=loaded, rules_only=loaded is None)
        levels = con.execute(
            """SELECT county_code, risk_level, count(*), count(*) FILTER (WHERE NOT monitored),
                                       count(*) FILTER (WHERE model_warning)
                                FROM household_scores WHERE as_of_date = ? GROUP BY ALL ORDER BY 1, 2""",
            [day],
        ).fetchall()
        by_township = con.execute(
            """SELECT township, risk_level, count(*) FROM household_scores WHERE as_of_date = ?
                                     GROUP BY ALL ORDER BY 1, 2""",
            [day],
        ).fetchall()
        warnings = con.execute(
            "SELECT count(*) FROM household_scores WHERE as_of_date = ? AND model_warning", [day]
        ).fetchall()[0][0]
        schema = table_schema(con, "household_scores")
    metadata = {
        "dagster/row_count": rows,
        "dagster/column_schema": schema,
        "model_warnings": warnings,
        "model_version": loaded.version if loaded else "无（仅规则）",
        "levels": MetadataValue.md(markdown_table(levels, ["县", "风险等级", "户数", "非监测户", "模型预警"])),
        "levels_by_township_chart": MetadataValue.md(
            chart_md(risk_levels_by_township, by_township, alt="各乡镇风险等级")
        ),
    }
    if unusable:  # a broken or tampered model must not stop the day's lists: rules alone, and say so
        metadata["model_unavailable"] = f"模型不可用（{unusable}），本次仅按规则评分"
        context.log.warning(metadata["model_unavailable"])
    elif loaded is None:  # the normal state until a first model passes its gates: said, not warned about
        context.log.info("没有已启用的模型：风险等级仅由规则决定，概率为空")
    return MaterializeResult(metadata=metadata)


@asset_check(
    asset=SCORES_KEY,
    name="feature_drift",
    blocking=False,
    partitions_def=DELIVERY_PARTITIONS,
    description="特征漂移（WARN）：今天的特征分布与模型训练数据比较（PSI），列出变化超过政策文件阈值的特征。",
)
def feature_drift(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> AssetCheckResult:
    from fangfanpin.models.drift import drift_report

    day = date.fromisoformat(context.partition_key)
    with warehouse.get_connection() as con:
        report = drift_report(con, day, settings.policy(), settings.resolve().model_dir)
    metadata = {
        "model_version": report["version"] or "无",
        "moved": ", ".join(report["moved"]) or "无",
        "psi": MetadataValue.md(markdown_table(report["table"], ["特征", "PSI"])),
    }
    if report["unusable"]:
        metadata["model_unavailable"] = f"模型不可用（{report['unusable']}），未做漂移比较"
    return AssetCheckResult(passed=not report["moved"], severity=AssetCheckSeverity.WARN, metadata=metadata)


@asset(
    key=MODEL_KEY,
    deps=[_INDICATORS, _RULE_HITS],
    group_name=TRAINING_GROUP,
    kinds={"scikitlearn"},
    owners=[OWNER],
    description="风险模型训练（每周或按需）：月末时点特征、90 天内确认纳入为标签（已监测户不参与），按时间切分选择逻辑回归或"
    "直方图梯度提升并校准；与仅规则比较，只有通过全部启用检查（ROC-AUC、同等走访量下优于规则、实际配置的召回增益及其置信区间、各户类型公平）的模型才启用。产物：skops 模型 + 模型卡。",
)
def risk_model(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    from fangfanpin.models.training import train

    model_dir = settings.resolve().model_dir
    with warehouse.get_connection() as con:
        result = train(con, settings.policy(), model_dir)
    context.log.info(result.message)
    card = result.card
    metadata = {
        "status": result.status,
        "message": result.message,
        "seconds": round(result.seconds, 1),
        "dagster/row_count": sum((card or {}).get("rows", {}).get(k, 0) for k in ("train", "validation")),
        "dagster/column_schema": FEATURES_SCHEMA,
    }
    if card:
        val = card["validation"]
        work = val["workload"]
        metadata |= {
            "version": result.version,
            "model_type": card["model_type"],
            "roc_auc": val["model"]["roc_auc"],
            "pr_auc": val["model"]["pr_auc"],
            "rules_roc_auc": val["rules"]["roc_auc"],
            "rules_pr_auc": val["rules"]["pr_auc"],
            "recall_model_equal_workload": work["model_equal_workload"]["recall"],
            "recall_rules_alone": work["rules_alone"]["recall"],
            "beats_rules_at_equal_workload": card["gate"]["beats_rules_at_equal_workload"],
            "promoted": card["gate"]["promoted"],
            "data_fingerprint": card["data_fingerprint"],
            "code_version": card["code_version"],
            "training_dates": ", ".join(card["training_dates"]),
            "validation_dates": ", ".join(card["validation_dates"]),
            "card": MetadataValue.md((model_dir / result.version / "card.md").read_text(encoding="utf-8")),
            "calibration_chart": MetadataValue.md(chart_md(calibration, val["calibration"], alt="校准图")),
        }
    return MaterializeResult(metadata=metadata)


@asset_check(
    asset=MODEL_KEY,
    name="model_promoted",
    blocking=False,
    description="本次训练的模型是否通过全部启用检查并启用（ROC-AUC、同等走访量下优于规则、实际配置的召回增益、各户类型公平；见模型卡）。",
)
def model_promoted(context: AssetCheckExecutionContext, settings: PipelineSettings) -> AssetCheckResult:
    from fangfanpin.models.artifacts import ArtifactError, promoted_version

    try:
        pointer = promoted_version(settings.resolve().model_dir)
    except ArtifactError as exc:  # reported, not raised: the training run itself succeeded
        pointer = {"version": f"不可用（{exc.zh}）"}
    event = context.instance.get_latest_materialization_event(MODEL_KEY)
    status = event.asset_materialization.metadata.get("status").value if event and event.asset_materialization else None
    return AssetCheckResult(
        passed=status == "promoted",
        severity=AssetCheckSeverity.WARN,
        metadata={"last_training": status or "无", "promoted_model": (pointer or {}).get("version", "无")},
    )


TRAINING_JOB_NAME = "training_job"
training_job = define_asset_job(
    TRAINING_JOB_NAME,
    selection=AssetSelection.assets(MODEL_KEY),
    executor_def=in_process_executor,
    description="训练风险模型（每周一次或按需），通过检查才启用。",
)


@schedule(
    job=training_job,
    cron_schedule="0 3 * * 1",
    execution_timezone="Asia/Shanghai",
    default_status=DefaultScheduleStatus.RUNNING,
    description="每周一凌晨重新训练风险模型（每日任务只评分，不训练）。",
)
def weekly_training_schedule(context: ScheduleEvaluationContext):
    return RunRequest(run_key=f"training-{context.scheduled_execution_time:%Y%m%d}")


scoring_assets = [household_scores, risk_model]
scoring_checks = [feature_drift, model_promoted]
