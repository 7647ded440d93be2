"""The daily overview asset: a thin Dagster wrapper around ``deliverables.daily_overview``, partitioned by delivery date.

One asset, ``overview/daily_overview``, after the county outbox (the daily job's last asset that writes): the analyst's
morning questions on one page, all counties together. Its tables are Dagster table metadata, which the UI draws
inline with their Chinese headers (a Markdown table longer than a few lines hides behind "[Show Markdown]"); the
chart is a PNG in Markdown; the counts are plain integers, so the UI plots them across dates. It only reads the
warehouse. No name, no ID number: a household is its masked 户编号, place names are masked like every input text.
"""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, OWNER, REPORT_GROUP
from fangfanpin.assets.deliverables import DELIVERABLES_KEYS
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.charts import chart_md, new_warnings_by_township
from fangfanpin.deliverables.daily_overview import Overview, Table, daily_overview, summary_markdown

OVERVIEW_GROUP = REPORT_GROUP
OVERVIEW_KEY = AssetKey(["overview", "daily_overview"])


def table_value(table: Table) -> MetadataValue:
    """Dagster table metadata: the columns' Chinese names are the headers the UI shows; dates as YYYY-MM-DD."""
    schema = TableSchema(
        columns=[TableColumn(c.name, c.type, description=c.description or None) for c in table.columns]
    )
    records = [TableRecord({k: v.isoformat() if isinstance(v, date) else v for k, v in r.items()}) for r in table.rows]
    return MetadataValue.table(records=records, schema=schema)


def overview_metadata(ov: Overview) -> dict:
    previous = f"上一交付日期（{ov.previous:%m-%d}）" if ov.previous else "上一交付日期（无）"
    shown = len(ov.overdue.rows)
    return {
        "summary": MetadataValue.md(summary_markdown(ov)),
        "feeds": table_value(ov.feeds),
        "warnings_chart": MetadataValue.md(
            chart_md(new_warnings_by_township, ov.warnings_by_township, previous, alt="各乡镇新增预警户数")
        ),
        "warnings_by_rule": table_value(ov.warnings),
        "overdue_cases": table_value(ov.overdue),
        "overdue_note": (
            f"逾期案件共 {ov.overdue_total:,} 件，按逾期天数列出前 {shown:,} 件，其余见各县工作清单的“逾期提醒”表"
            if ov.overdue_total > shown
            else f"逾期案件共 {ov.overdue_total:,} 件，全部列出"
        ),
        "quality_by_kind": table_value(ov.quality),
        "previous_date": ov.previous.isoformat() if ov.previous else "无",
        **ov.numbers,  # plain counts, which the UI plots across dates
    }


@asset(
    key=OVERVIEW_KEY,
    group_name=OVERVIEW_GROUP,
    kinds={"duckdb", "sql"},
    owners=[OWNER],
    partitions_def=DELIVERY_PARTITIONS,
    deps=[DELIVERABLES_KEYS["county_outbox"]],
    description="每日概览（各县合计）：各数据集最近交付日期、距今天数、约定周期与时效（迟交、严重迟交），今日载入行、隔离行与"
    "隔离率；各乡镇×规则的新增预警及与上一交付日期相比的变化（附图）；逾期案件清单（户编号脱敏、乡镇、村、状态、超过的时限、"
    "逾期工作日，最久的在前）；跨部门数据质量问题按类型和整改部门。计数（feeds_late、new_warnings、cases_overdue 等）"
    "可在 Plots 中按日期查看。不含姓名和证件号码。",
)
def daily_overview_asset(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    with warehouse.get_connection(writes=False) as con:  # a report: its run alone leaves the date done
        ov = daily_overview(con, day, settings.policy())
    context.log.info(f"overview for {day}: {ov.numbers}")
    return MaterializeResult(metadata=overview_metadata(ov))


overview_assets = [daily_overview_asset]
