from fangfanpin.assets.ingest.checks import ingest_checks as feed_checks
from fangfanpin.assets.ingest.feeds import ingest_assets as feed_assets
from fangfanpin.assets.ingest.landing import LANDING_KEY, landing_assets, landing_checks

ingest_assets = landing_assets + feed_assets
ingest_checks = landing_checks + feed_checks

__all__ = ["LANDING_KEY", "ingest_assets", "ingest_checks"]
