"""Great Expectations suites built from the data contracts (the contract YAML is the single source of truth).

Three pieces, all run on a polars DataFrame holding the typed, loaded rows of one delivery (the contract's English
column names, plus lineage columns starting with ``_`` and ``county_code``, which the suites ignore):

- :func:`structure_suite` — blocking checks (ERROR in Dagster): columns present, required columns not null, codes in
  their allowed set (multi-code cells part by part), key unique, ID / division formats, non-negative amounts, int
  ranges.
- :func:`profile` / :func:`drift_suite` — non-blocking checks (WARN in Dagster) against the previous delivery's
  profile: row count within a ratio, per-column null rate not more than ``tolerance`` above the previous one.
- :func:`validate` — runs a suite with an ephemeral GX context and returns a small, JSON-friendly
  :class:`SuiteResult` whose failures carry a Chinese message naming the column by its Chinese header. Values that
  look like ID numbers are masked (first 6 + ``********`` + last 4, ``fangfanpin.core.privacy``) before they reach a message.

``great_expectations`` is imported lazily (inside the functions): importing it takes seconds and this module is
imported by the Dagster definitions.

    >>> from fangfanpin.data_contracts import load_contract
    >>> suite = structure_suite(load_contract("roster"))          # doctest: +SKIP
    >>> result = validate(roster_df, suite)                         # doctest: +SKIP
    >>> [f.message_zh for f in result.failures]                     # doctest: +SKIP
    ['必填列 证件号码 有 3 行为空']

Modules: ``results`` (what a validation returns), ``suites`` (structure and drift suites, profiles), ``validation``
(running a suite), ``messages`` (the Chinese message of each failure).
"""

from fangfanpin.data_contracts.gx_suites.results import DeliveryProfile, Failure, SuiteResult
from fangfanpin.data_contracts.gx_suites.suites import drift_suite, profile, structure_suite
from fangfanpin.data_contracts.gx_suites.validation import validate, value_columns

__all__ = [
    "DeliveryProfile",
    "Failure",
    "SuiteResult",
    "drift_suite",
    "profile",
    "structure_suite",
    "validate",
    "value_columns",
]
