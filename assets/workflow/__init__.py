"""Workflow assets: a thin Dagster wrapper around ``workflow``, partitioned by delivery date.

One asset, ``workflow/case_ledger``: opens and moves the day's cases and writes every ledger table (cases,
case_events, visit_tasks, publication_batches/members/outcomes, workflow_issues, elimination_candidates,
case_status_daily) in one transaction. Re-running a date gives the same ledger; running an earlier date than the
newest processed one recomputes forward (the metadata lists the dates recomputed). Metadata shows counts by state,
township and issue kind only: no ID number, no name.
"""

from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, OWNER
from fangfanpin.assets.crosscheck import CROSSCHECK_KEYS
from fangfanpin.assets.metadata import query_markdown, table_schema
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.charts import cases_by_state_over_time, chart_md
from fangfanpin.workflow import run_workflow
from fangfanpin.workflow.chain import verify_chain
from fangfanpin.workflow.states import ELIMINATION_OPEN, INCLUSION_OPEN, state_table_markdown

WORKFLOW_GROUP = "workflow"
WORKFLOW_KEYS = {"case_ledger": AssetKey(["workflow", "case_ledger"])}
SCORES_KEY = AssetKey(["scoring", "household_scores"])  # built by assets.scoring; read through the table only
CHART_DAYS = 90  # the cases-by-state chart covers this many days up to the run date


@asset(
    key=WORKFLOW_KEYS["case_ledger"],
    group_name=WORKFLOW_GROUP,
    kinds={"duckdb", "python"},
    owners=[OWNER],
    partitions_def=DELIVERY_PARTITIONS,
    deps=[CROSSCHECK_KEYS["household_indicators"], CROSSCHECK_KEYS["rule_hits"], SCORES_KEY],
    description="动态管理案件台账：部门预警、模型预警、农户申请和干部排查立案（每户仅一个进行中的案件）；走访任务（工作日时限）、"
    "自动比对（排除情形、走访与部门数据矛盾）、村级公示批次、公示结果、县级决定、绿色通道、不予纳入冷却期、风险消除候选。"
    "不符合案件状态的事件列入 workflow_issues，不予处理。Tables: cases, case_events (append-only), visit_tasks, "
    "publication_batches, publication_members, publication_outcomes, workflow_issues, elimination_candidates, "
    "case_status_daily.",
)
def case_ledger(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    with warehouse.get_connection() as con:
        result = run_workflow(con, day, settings.policy())
        by_state = query_markdown(
            con,
            """SELECT case_status, count(*), count(*) FILTER (WHERE overdue)
                                     FROM case_status_daily WHERE as_of_date = ? GROUP BY 1 ORDER BY 1""",
            [day],
            ["案件状态", "案件数", "逾期"],
        )
        by_township = query_markdown(
            con,
            """SELECT county_code, township, case_status, count(*) FROM case_status_daily
                                        WHERE as_of_date = ? GROUP BY ALL ORDER BY 1, 2, 3""",
            [day],
            ["县", "乡镇", "案件状态", "案件数"],
        )
        issues = query_markdown(
            con,
            """SELECT kind, count(*) FROM workflow_issues WHERE processed_date = ?
                                   GROUP BY 1 ORDER BY 2 DESC, 1""",
            [day],
            ["未处理事件", "条数"],
        )
        history = con.execute(
            """SELECT as_of_date, case_status, count(*) FROM case_status_daily
                                 WHERE as_of_date > ? - ?::INTEGER AND as_of_date <= ? GROUP BY ALL ORDER BY 1, 2""",
            [day, CHART_DAYS, day],
        ).fetchall()
        counts = con.execute(
            """SELECT (SELECT count(*) FROM visit_task_status WHERE status = '待走访'),
                                       (SELECT count(*) FROM publication_batches WHERE processed_date = ?),
                                       (SELECT count(*) FROM elimination_candidates WHERE as_of_date = ?),
                                       (SELECT count(*) FROM case_status_daily WHERE as_of_date = ? AND overdue)""",
            [day, day, day],
        ).fetchall()[0]
        rows, schema = (
            con.execute("SELECT count(*) FROM case_events").fetchall()[0][0],
            table_schema(con, "case_events"),
        )
    return MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "events_today": result.events,
            "cases_opened_today": result.cases_opened,
            "issues_today": result.issues,
            "open_visit_tasks": counts[0],
            "publication_batches_today": counts[1],
            "elimination_candidates": counts[2],
            "overdue_cases": counts[3],
            "recomputed_dates": ", ".join(d.isoformat() for d in result.recomputed),
            "cases_by_state": MetadataValue.md(by_state),
            "cases_by_state_chart": MetadataValue.md(
                chart_md(
                    cases_by_state_over_time,
                    history,
                    INCLUSION_OPEN + ELIMINATION_OPEN,
                    alt=f"近{CHART_DAYS}天进行中的案件",
                )
            ),
            "cases_by_township": MetadataValue.md(by_township),
            "issues_by_kind": MetadataValue.md(issues),
            "state_table": MetadataValue.md(state_table_markdown()),
        }
    )


@asset_check(
    asset=WORKFLOW_KEYS["case_ledger"],
    name="hash_chain",
    blocking=True,
    partitions_def=DELIVERY_PARTITIONS,
    description="案件台账防篡改校验：重新计算全部事件的哈希链，发现被改动或删除的事件即失败并阻断后续交付。"
    " / Recomputes the case_events hash chain; fails (blocking) on the first altered or removed event.",
)
def ledger_hash_chain(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.get_connection() as con:
        report = verify_chain(con)
    p = report.first
    metadata = {"events_verified": report.events, "result": report.message()}
    if p is not None:
        metadata |= {
            "kind": p.kind,
            "case_id": p.case_id or "",
            "event_seq": p.event_seq or 0,
            "processed_date": str(p.processed_date or ""),
        }
        context.log.error(report.message())
    return AssetCheckResult(passed=report.intact, severity=AssetCheckSeverity.ERROR, metadata=metadata)


workflow_assets = [case_ledger]
workflow_checks = [ledger_hash_chain]
