from dagster import Definitions

from fangfanpin.assets.crosscheck import crosscheck_assets
from fangfanpin.assets.deliverables import deliverables_assets
from fangfanpin.assets.ingest import ingest_assets, ingest_checks
from fangfanpin.assets.overview import overview_assets
from fangfanpin.assets.resources import pipeline_resources
from fangfanpin.assets.scoring import scoring_assets, scoring_checks, training_job, weekly_training_schedule
from fangfanpin.assets.workflow import workflow_assets, workflow_checks
from fangfanpin.core.privacy import restrict_umask
from fangfanpin.pipeline.jobs import daily_job
from fangfanpin.pipeline.schedules import daily_schedule
from fangfanpin.pipeline.sensors import new_delivery_sensor

restrict_umask()  # runs launched from the UI or the daemon create owner-only files too (personal data)

defs = Definitions(
    assets=ingest_assets + crosscheck_assets + scoring_assets + workflow_assets + deliverables_assets + overview_assets,
    asset_checks=ingest_checks + scoring_checks + workflow_checks,
    jobs=[daily_job, training_job],
    schedules=[daily_schedule, weekly_training_schedule],
    sensors=[new_delivery_sensor],
    resources=pipeline_resources(),
)
