"""The daily job: every stage for one delivery date, steps in one process (DuckDB has a single writer)."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from fangfanpin.assets.constants import DAILY_GROUPS, DAILY_JOB_NAME, DELIVERY_PARTITIONS

__all__ = ["DAILY_JOB_NAME", "daily_job"]

daily_job = define_asset_job(
    DAILY_JOB_NAME,
    selection=AssetSelection.groups(*DAILY_GROUPS),
    partitions_def=DELIVERY_PARTITIONS,
    executor_def=in_process_executor,
    description="每日运行：读取一个交付日期的全部数据并依次处理。",
)
