"""Deliverables assets: a thin Dagster wrapper around ``deliverables``, partitioned by delivery date.

One asset, ``deliverables/county_outbox``: the county workbook, candidates.csv, the village publication PDFs and
manifest.json per county folder, plus 未归属/数据质量问题.xlsx, under <outbox>/<date>/. Metadata: the candidates row
count, candidates.csv's columns, and a table of the files per county with row counts. No ID number, no name.
"""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from fangfanpin.assets.constants import DAILY_JOB_NAME, DELIVERY_PARTITIONS, OWNER, WRITING_GROUPS
from fangfanpin.assets.delivery_runs import finish_run
from fangfanpin.assets.ingest import LANDING_KEY
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.assets.workflow import WORKFLOW_KEYS
from fangfanpin.deliverables import last_summary, write_county_outputs
from fangfanpin.deliverables.candidates import COLUMN_DOCS, COLUMNS
from fangfanpin.ingest.warehouse import delivery_problems

DELIVERABLES_GROUP = "deliverables"
DELIVERABLES_KEYS = {"county_outbox": AssetKey(["deliverables", "county_outbox"])}
CANDIDATES_SCHEMA = TableSchema(columns=[TableColumn(c, "varchar", description=COLUMN_DOCS[c]) for c in COLUMNS])

PROBLEMS_TAG = "ffp/delivery_problems"  # on a run whose date has a delivery to look at (exit status 2)


def _whole_daily_run(context: AssetExecutionContext) -> bool:
    """A run of every asset of the daily job that writes (the command, sensor and schedule run the job; the UI may
    select them, with or without the read-only overview)."""
    run = context.dagster_run
    if not run.asset_selection:
        return run.job_name == DAILY_JOB_NAME
    return AssetSelection.groups(*WRITING_GROUPS).resolve(context.repository_def.asset_graph) <= run.asset_selection


def files_markdown(summary) -> str:
    lines = ["| 县 | 文件 | 行数 |", "|---|---|---|"]
    for county in summary:
        for f in county.files:
            lines.append(
                f"| {county.county_code} {county.county_name if county.county_name != county.county_code else ''}"
                f" | {f['path']} | {f['rows']:,} |"
            )
    return "\n".join(lines) if len(lines) > 2 else "无"


@asset(
    key=DELIVERABLES_KEYS["county_outbox"],
    group_name=DELIVERABLES_GROUP,
    kinds={"xlsx", "pdf", "csv"},
    owners=[OWNER],
    partitions_def=DELIVERY_PARTITIONS,
    deps=[WORKFLOW_KEYS["case_ledger"], LANDING_KEY],
    description="县级工作清单（工作概览、新增预警、排查任务、比对异常、公示名单、待确认、风险消除候选、逾期提醒、回传处理结果、"
    "数据质量问题、说明）、村级排查任务单 PDF、回传模板（走访结果、民主评议及公示结果、县级决定）、"
    "candidates.csv、村级公示 PDF（拟纳入、纳入补充公示、拟消除风险）和 manifest.json，按县写入 <outbox>/<日期>/<县代码>/；"
    "无法归属到县的数据质量问题写入 <outbox>/<日期>/未归属/。证件号码一律脱敏，电话仅出现在排查任务表。",
)
def county_outbox(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    resolved = settings.resolve()
    outbox = resolved.outbox_dir
    with warehouse.get_connection() as con:
        paths = write_county_outputs(
            con, day, outbox, settings.policy(), run_id=context.run_id, render_workers=resolved.render_workers
        )
        if _whole_daily_run(context):  # the job's last writer: the date is done (assets/delivery_runs.py)
            finish_run(con, day, context.run_id)
        problems = delivery_problems(con, day)
    if problems:  # the run list shows which delivery an operator must look at, whoever launched the run
        context.instance.add_run_tags(context.run_id, {PROBLEMS_TAG: problems_tag(problems)})
    summary = last_summary()
    candidates = sum(c.candidates for c in summary)
    context.log.info(f"deliverables for {day}: {len(paths)} files in {outbox / day.isoformat()}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": candidates,
            "dagster/column_schema": CANDIDATES_SCHEMA,
            "counties": len([c for c in summary if c.county_code.isdigit()]),
            "files_written": len(paths),
            "publication_notices": sum(1 for c in summary for f in c.files if f["path"].startswith("公示/")),
            "task_packs": sum(1 for c in summary for f in c.files if f["path"].startswith("排查任务/")),
            "outbox": MetadataValue.path(str(outbox / day.isoformat())),
            "files_by_county": MetadataValue.md(files_markdown(summary)),
        }
    )


def problems_tag(problems: list[tuple[str, str, str]]) -> str:
    """``applications:file_rejected, roster:held``: feeds and what happened, never a file name or a value.

    >>> problems_tag([("roster", "held", "…"), ("applications", "file_rejected", "…"), ("roster", "held", "…")])
    'applications:file_rejected, roster:held'
    """
    return ", ".join(sorted({f"{feed}:{status}" for feed, status, _ in problems}))


deliverables_assets = [county_outbox]
