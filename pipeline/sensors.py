"""Start a run when a new delivery folder appears in the landing directory (oldest first)."""

from datetime import date

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from ingest.read import delivery_dates
from pipeline.jobs import daily_job
from pipeline.settings import settings


@sensor(job=daily_job, minimum_interval_seconds=60, description="落地目录出现新的交付日期文件夹时启动运行。")
def new_delivery_sensor(context: SensorEvaluationContext):
    seen = date.fromisoformat(context.cursor) if context.cursor else None
    new = [d for d in delivery_dates(settings().landing_dir) if seen is None or d > seen]
    if not new:
        return SkipReason("no new delivery folder")
    for day in new:
        yield RunRequest(run_key=f"delivery-{day.isoformat()}", partition_key=day.isoformat(), tags=settings().run_tags)
    context.update_cursor(new[-1].isoformat())
