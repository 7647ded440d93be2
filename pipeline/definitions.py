from dagster import Definitions

from assets.crosscheck import crosscheck_assets
from assets.ingest import ingest_assets, ingest_checks
from pipeline.jobs import daily_job
from pipeline.resources import warehouse_resource
from pipeline.schedules import daily_schedule
from pipeline.sensors import new_delivery_sensor

defs = Definitions(assets=ingest_assets + crosscheck_assets, asset_checks=ingest_checks, jobs=[daily_job], schedules=[daily_schedule],
                   sensors=[new_delivery_sensor], resources={"warehouse": warehouse_resource()})
