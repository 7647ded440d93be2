from dagster import Definitions

from assets.crosscheck import crosscheck_assets
from assets.deliverables import deliverables_assets
from assets.ingest import ingest_assets, ingest_checks
from assets.scoring import scoring_assets, scoring_checks, training_job, weekly_training_schedule
from assets.workflow import workflow_assets, workflow_checks
from pipeline.jobs import daily_job
from pipeline.resources import warehouse_resource
from pipeline.schedules import daily_schedule
from pipeline.sensors import new_delivery_sensor
from ingest.privacy import restrict_umask

restrict_umask()  # runs launched from the UI or the daemon create owner-only files too (personal data)

defs = Definitions(assets=ingest_assets + crosscheck_assets + scoring_assets + workflow_assets
                   + deliverables_assets, asset_checks=ingest_checks + scoring_checks + workflow_checks,
                   jobs=[daily_job, training_job], schedules=[daily_schedule, weekly_training_schedule],
                   sensors=[new_delivery_sensor], resources={"warehouse": warehouse_resource()})
