"""Start runs when a delivery folder appears in the landing directory, or changes after it was processed (a county's
late file): what ``fangfanpin run --pending`` would run, oldest date first (pipeline/automation.py). On by default:
a deployment runs the daemon so that deliveries are processed as they arrive."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, sensor

from fangfanpin.pipeline.automation import evaluate
from fangfanpin.pipeline.jobs import daily_job


@sensor(
    job=daily_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="落地目录出现新的交付日期文件夹、或已处理的文件夹中又有文件到达时，"
    "按日期顺序启动待处理日期的运行（与 fangfanpin run --pending 相同）。",
)
def new_delivery_sensor(context: SensorEvaluationContext):
    return evaluate(context)
