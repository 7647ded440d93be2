"""The delivery folder itself, as an asset: every entry of the date's folder, and the ones that were not read."""

from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
    asset_check,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, INGEST_GROUP, OWNER
from fangfanpin.assets.metadata import markdown_table
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.core.privacy import mask_text
from fangfanpin.ingest import known_counties
from fangfanpin.ingest.landing import record_landing, scan_delivery
from fangfanpin.schema import ensure_schema

LANDING_KEY = AssetKey(["ingest", "landing_files"])
LANDING_SCHEMA = TableSchema(
    columns=[
        TableColumn("delivery_date", "date", description="交付日期"),
        TableColumn("name", "string", description="文件名"),
        TableColumn("feed", "string", description="所属数据集（按文件名；空为不对应任何数据集）"),
        TableColumn("bytes", "int", description="文件大小（字节）"),
        TableColumn("problem", "string", description="未读取的原因（空为已读取）"),
        TableColumn("county_code", "string", description="文件名中的县代码（未读取的条目按它归属到县）"),
    ]
)


@asset(
    key=LANDING_KEY,
    group_name=INGEST_GROUP,
    kinds={"duckdb"},
    owners=[OWNER],
    partitions_def=DELIVERY_PARTITIONS,
    metadata={"dagster/column_schema": LANDING_SCHEMA},
    description="交付文件夹清单：当天交付文件夹中的每个文件属于哪个数据集；文件名不对应任何数据集（如拼写错误、.xls）、"
    "指向落地目录以外的符号链接、文件夹等未读取的条目及其原因，列入数据质量问题（文件名中的县代码决定归属县）。"
    "Table `landing_files`.",
)
def landing_files(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    entries = scan_delivery(settings.resolve().landing_dir, day)
    with warehouse.get_connection() as con:
        ensure_schema(con)
        record_landing(con, day, entries, known_counties())
    not_read = [e for e in entries if not e.read]
    for entry in not_read:
        context.log.warning(mask_text(f"{day} 交付文件夹中的「{entry.name}」{entry.problem}"))
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(entries),
            "files_read": sum(e.read for e in entries),
            "files_not_read": len(not_read),
            "files": MetadataValue.md(
                markdown_table(
                    [
                        (
                            mask_text(e.name),
                            e.feed or "—",
                            e.size if e.size is not None else "—",
                            "已读取" if e.read else "未读取",
                        )
                        for e in entries
                    ],
                    ["文件", "数据集", "字节", "状态"],
                )
            ),
            "not_read": MetadataValue.md(
                markdown_table([(mask_text(e.name), mask_text(e.problem)) for e in not_read], ["文件", "原因"])
            ),
        }
    )


@asset_check(
    asset=LANDING_KEY,
    name="every_file_read",
    blocking=False,
    partitions_def=DELIVERY_PARTITIONS,
    description="交付文件夹中的每个条目都已按数据集读取；有未读取的条目时失败（ERROR，不阻断其余数据）。",
)
def every_file_read(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    day = date.fromisoformat(context.partition_key)
    with warehouse.get_connection() as con:
        rows = con.execute(
            "SELECT name, problem FROM landing_files WHERE delivery_date = ? AND problem IS NOT NULL ORDER BY name",
            [day],
        ).fetchall()
    return AssetCheckResult(
        passed=not rows,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "files_not_read": len(rows),
            "not_read": MetadataValue.md(
                markdown_table([(mask_text(n), mask_text(p)) for n, p in rows], ["文件", "原因"])
            ),
        },
    )


landing_assets = [landing_files]
landing_checks = [every_file_read]
