"""Early each morning, run whatever delivery dates are pending (pipeline/automation.py): the scheduled daily run, and
the catch-up should the sensor have been stopped. On by default; folders not named by a runnable date are reported,
not run."""

from dagster import DefaultScheduleStatus, ScheduleEvaluationContext, schedule

from fangfanpin.pipeline.automation import evaluate
from fangfanpin.pipeline.jobs import daily_job


@schedule(
    job=daily_job,
    cron_schedule="30 5 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=DefaultScheduleStatus.RUNNING,
    description="每天清晨处理待处理的交付日期（与 fangfanpin run --pending 相同）。",
)
def daily_schedule(context: ScheduleEvaluationContext):
    return evaluate(context)
