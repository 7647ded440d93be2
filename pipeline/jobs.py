"""The daily job: every stage for one delivery date, steps in one process (DuckDB has a single writer)."""

from datetime import date

from dagster import AssetSelection, DagsterInstance, define_asset_job, in_process_executor

from fangfanpin.assets.constants import DAILY_GROUPS, DAILY_JOB_NAME, DELIVERY_PARTITIONS

__all__ = ["DAILY_JOB_NAME", "add_delivery_partition", "daily_job"]

daily_job = define_asset_job(
    DAILY_JOB_NAME,
    selection=AssetSelection.groups(*DAILY_GROUPS),
    partitions_def=DELIVERY_PARTITIONS,
    executor_def=in_process_executor,
    description="每日运行：读取一个交付日期的全部数据并依次处理。",
)


def add_delivery_partition(instance: DagsterInstance, day: date) -> None:
    """Make ``day`` a delivery partition (a date is one once a run of its delivery folder is started)."""
    if not instance.has_dynamic_partition(DELIVERY_PARTITIONS.name, day.isoformat()):
        instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, [day.isoformat()])
