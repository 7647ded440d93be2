"""Early each morning, run the daily job for the newest delivery folder; folders not named by a runnable date are
reported, not run."""

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from fangfanpin.assets.delivery_runs import scan_landing
from fangfanpin.core.settings import settings
from fangfanpin.pipeline.jobs import daily_job


@schedule(
    job=daily_job,
    cron_schedule="30 5 * * *",
    execution_timezone="Asia/Shanghai",
    description="每天清晨处理最新一期交付。",
)
def daily_schedule(context: ScheduleEvaluationContext):
    landing, notices = scan_landing(settings().landing_dir)
    for line in notices:
        context.log.warning(line)
    if not landing:
        return SkipReason("\n".join([f"no delivery folder in {settings().landing_dir}", *notices]))
    newest = max(landing).isoformat()
    return RunRequest(
        run_key=f"scheduled-{newest}-{context.scheduled_execution_time:%Y%m%d}",
        partition_key=newest,
        tags=settings().run_tags,
    )
