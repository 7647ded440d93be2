"""The warehouse side of ingest: applying a prepared delivery idempotently, and what operators do with held ones.

Every feed has one table holding every delivery's rows, tagged with ``_delivery_date``. Re-running a date deletes
that date's rows and inserts them again (one transaction), so a date can be replayed any number of times. A snapshot
re-sent unchanged whose rows are placed as before stores none: it reuses the earlier date's (``reused_snapshots``);
read a delivery's rows with ``<feed>_delivery(d)``.

- snapshot feeds: ``<feed>_asof(d)`` is, per county, the newest *applied* delivery on or before ``d``; a delivery
  that shrank below the policy ratio is stored but held until an operator accepts it.
- increment feeds: ``<feed>_asof(d)`` is, per key, the newest version delivered on or before ``d``; a re-sent row
  identical to one already delivered is counted as a duplicate and not stored again.

Identifiers in SQL come from the contracts (never from data); every data value is a bound parameter.

The tables and macros are the warehouse schema's (``fangfanpin.schema``). Modules: ``apply`` (applying a
delivery), ``placement`` (placing rows and issues in a county), ``operator`` (held deliveries, problems to look at,
accepting a held snapshot).
"""

from fangfanpin.ingest.warehouse.apply import ApplyResult, apply_delivery
from fangfanpin.ingest.warehouse.operator import accept_delivery, delivery_problems, held_or_rejected
from fangfanpin.ingest.warehouse.placement import reports_left_unplaced
from fangfanpin.schema import asof_macro_sql, ensure_schema, q

__all__ = [
    "ApplyResult",
    "accept_delivery",
    "apply_delivery",
    "asof_macro_sql",
    "delivery_problems",
    "ensure_schema",
    "held_or_rejected",
    "q",
    "reports_left_unplaced",
]
