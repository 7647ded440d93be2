"""One ingest asset per feed, built from its data contract, partitioned by delivery date."""

from datetime import date

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, INGEST_GROUP, INGEST_KEYS, OWNER
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.core.privacy import mask_text
from fangfanpin.data_contracts import Contract, all_contracts
from fangfanpin.ingest import ingest_feed
from fangfanpin.ingest.warehouse.apply import SAME_AS

DAGSTER_TYPES = {
    "text": "string",
    "code": "string",
    "id": "string (ID number)",
    "division": "string (12 digits)",
    "date": "date",
    "amount": "float (yuan)",
    "int": "int",
    "yesno": "bool",
}


def column_schema(contract: Contract) -> TableSchema:
    columns = [
        TableColumn(
            c.name,
            DAGSTER_TYPES[c.type],
            description=c.header + ("（必填）" if c.required else "") + ("（个人信息）" if c.personal else ""),
        )
        for c in contract.columns
    ]
    lineage = [
        TableColumn("_delivery_date", "date", description="交付日期"),
        TableColumn("_file", "string", description="文件"),
        TableColumn("_row", "int", description="文件中的行号"),
        TableColumn("county_code", "string", description="归属县代码"),
    ]
    return TableSchema(columns=columns + lineage)


def _issue_table(frame: pl.DataFrame, limit: int = 20) -> str:
    """A Markdown table of problems by kind; raw values are left out so no personal data reaches the UI."""
    if frame.height == 0:
        return "无"
    counts = (
        frame.group_by("column", "problem")
        .len()
        .sort(["len", "column", "problem"], descending=[True, False, False])
        .head(limit)
    )
    lines = ["| 列 | 问题 | 行数 |", "|---|---|---:|"]
    lines += [f"| {r['column'] or '（文件）'} | {r['problem']} | {r['len']:,} |" for r in counts.iter_rows(named=True)]
    return "\n".join(lines)


def build_ingest_asset(contract: Contract) -> AssetsDefinition:
    deps = [] if contract.feed == "roster" else [INGEST_KEYS["roster"]]

    @asset(
        key=INGEST_KEYS[contract.feed],
        group_name=INGEST_GROUP,
        kinds={"duckdb", "polars"},
        owners=[OWNER],
        partitions_def=DELIVERY_PARTITIONS,
        deps=deps,
        description=(
            f"{contract.title}（{contract.department}，{'快照' if contract.kind == 'snapshot' else '增量'}）。"
            f"\n\nReads the `{contract.feed}` files of the delivery date (UTF-8, UTF-8-BOM, GB18030 CSV or XLSX), "
            f"applies the `{contract.feed}` data contract, quarantines unusable rows with a reason, and loads typed rows "
            f"into the warehouse table `{contract.feed}`. "
            + (
                "Snapshot: the newest applied delivery per county stands; a sudden shrink is held for an operator."
                if contract.kind == "snapshot"
                else "Increment: deliveries accumulate, de-duplicated by key; re-sent rows count as duplicates."
            )
        ),
        metadata={
            "dagster/column_schema": column_schema(contract),
            "contract": f"data_contracts/feeds/{contract.feed}.yaml",
        },
    )
    def _ingest(
        context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
    ) -> MaterializeResult:
        day = date.fromisoformat(context.partition_key)
        policy = settings.policy()
        s = settings.resolve()
        with warehouse.get_connection() as con:
            outcome = ingest_feed(
                con,
                contract,
                s.landing_dir,
                day,
                shrink_ratio=policy["ingest"]["snapshot_shrink_ratio"],
                region_counties=s.region_counties,
                limits=policy.file_limits,
            )
        prepared, applied = outcome.prepared, outcome.applied
        context.log.info(mask_text(f"{contract.feed} {day}: {applied.status} — {applied.message}"))
        same = SAME_AS.format(prepared.same_as) if prepared.same_as else None
        return MaterializeResult(
            metadata={
                "dagster/row_count": applied.rows_stored,
                "status": applied.status,
                "message": applied.message,
                "files": MetadataValue.md(
                    "\n".join(
                        f"- {mask_text(f.name)}（{f.encoding}，{f.rows:,} 行{'，已拒收' if f.rejected else ''}"
                        f"{'，' + same if same else ''}）"
                        for f in prepared.files
                    )
                    or "本日无交付"
                ),
                "same_as": same or "否",
                "rows_read": prepared.rows_read,
                "rows_loaded": applied.rows_stored,
                "rows_duplicate": prepared.duplicates + applied.resent,
                "rows_superseded": prepared.superseded,
                "rows_replacing_earlier": applied.replaced,
                "rows_quarantined": prepared.quarantined_rows,
                "reconciles": prepared.reconciles,
                "quarantine_by_reason": MetadataValue.md(_issue_table(prepared.quarantine)),
                "reports_by_kind": MetadataValue.md(_issue_table(prepared.reports)),
                **({"region": f"{s.region.name}（{s.region.name_zh}）"} if s.region else {}),
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(c) for c in all_contracts()]
