from assets.ingest.checks import ingest_checks
from assets.ingest.feeds import ingest_assets

__all__ = ["ingest_assets", "ingest_checks"]
