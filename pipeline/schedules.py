"""Early each morning, run the daily job for the newest delivery folder."""

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from ingest.read import delivery_dates
from pipeline.jobs import daily_job
from pipeline.settings import settings


@schedule(job=daily_job, cron_schedule="30 5 * * *", execution_timezone="Asia/Shanghai",
          description="每天清晨处理最新一期交付。")
def daily_schedule(context: ScheduleEvaluationContext):
    dates = delivery_dates(settings().landing_dir)
    if not dates:
        return SkipReason(f"no delivery folder in {settings().landing_dir}")
    newest = dates[-1].isoformat()
    return RunRequest(run_key=f"scheduled-{newest}-{context.scheduled_execution_time:%Y%m%d}", partition_key=newest,
                      tags=settings().run_tags)
