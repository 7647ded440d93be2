"""Asset keys, groups and partitions shared by the asset graph, the jobs and the CLI."""

import warnings

from dagster import AssetKey, DynamicPartitionsDefinition, PreviewWarning

from fangfanpin.data_contracts import FEED_NAMES

# Partitioned asset checks are "preview" in Dagster 1.13; we rely on them knowingly.
warnings.filterwarnings("ignore", category=PreviewWarning)

# Deliveries are dated by the day the extract was taken. A date becomes a partition when its delivery folder is run
# (the command, the sensor and the schedule add it), so the UI lists real delivery dates only, and a date missing
# from the list is a delivery that never came. Dates before the first one are refused as typing mistakes.
FIRST_DELIVERY_DATE = "2024-01-01"
DELIVERY_PARTITIONS = DynamicPartitionsDefinition(name="delivery_dates")

INGEST_GROUP = "ingest"
# The daily job runs these groups for one delivery date (pipeline/jobs.py); deliverables/county_outbox, its last asset
# that writes, marks the date done only in a run of every group that writes (assets/delivery_runs.py). The reports
# after it only read: a run may leave them out.
DAILY_JOB_NAME = "daily_job"
WRITING_GROUPS = (INGEST_GROUP, "crosscheck", "scoring", "workflow", "deliverables")
REPORT_GROUP = "overview"
DAILY_GROUPS = (*WRITING_GROUPS, REPORT_GROUP)
INGEST_KEYS = {feed: AssetKey(["ingest", feed]) for feed in FEED_NAMES}
OWNER = "team:data-platform"
