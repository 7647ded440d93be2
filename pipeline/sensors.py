"""Start runs when a delivery folder appears in the landing directory, or changes after it was seen (a county's late
file): that date and every later one, oldest first (deliveries are processed in date order; the instance queues one
run at a time). Folders that are not named by a runnable date are reported, not run.

The cursor maps each date seen to a digest of its folder's listing (names, sizes, modification times). A run that
fails is not started again by the sensor: ``fangfanpin run --pending`` (or the UI) retries it.
"""

import hashlib
import json

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from fangfanpin.assets.delivery_runs import scan_landing
from fangfanpin.core.settings import settings
from fangfanpin.pipeline.jobs import daily_job


def _digest(files: list) -> str:
    return hashlib.sha256(json.dumps(files, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


def _seen(cursor: str | None, current: dict[str, str]) -> dict[str, str]:
    if not cursor:
        return {}
    if cursor.startswith("{"):
        return json.loads(cursor)
    return {d: digest for d, digest in current.items() if d <= cursor}  # an older cursor: the newest date seen


@sensor(
    job=daily_job,
    minimum_interval_seconds=60,
    description="落地目录出现新的交付日期文件夹、或已处理的文件夹中又有文件到达时，"
    "按日期顺序启动该日期及其后各日期的运行。",
)
def new_delivery_sensor(context: SensorEvaluationContext):
    landing, notices = scan_landing(settings().landing_dir)
    for line in notices:
        context.log.warning(line)
    current = {d.isoformat(): _digest(files) for d, files in landing.items()}
    seen = _seen(context.cursor, current)
    changed = sorted(d for d, digest in current.items() if seen.get(d) != digest)
    if not changed:
        return SkipReason("\n".join(["no new or changed delivery folder", *notices]))
    first = changed[0]
    requests = [
        RunRequest(
            run_key=f"delivery-{d}-{current[d]}-from-{first}-{current[first]}",
            partition_key=d,
            tags=settings().run_tags,
        )
        for d in sorted(current)
        if d >= first
    ]
    context.update_cursor(json.dumps(current, sort_keys=True))
    return requests
