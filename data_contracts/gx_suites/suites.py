"""The suites a contract gives: the blocking structure suite, and the drift suite against the previous delivery's
profile. ``great_expectations`` is imported inside the functions: it takes seconds to import."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from fangfanpin.data_contracts import Contract
from fangfanpin.data_contracts.gx_suites.results import META_KEY, DeliveryProfile

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from great_expectations.core import ExpectationSuite

ID_REGEX = r"^[0-9]{17}[0-9X]$"
DIVISION_REGEX = r"^[0-9]{12}$"


def _meta(check: str, **extra: Any) -> dict[str, Any]:
    return {META_KEY: {"check": check, **extra}}


def _multi_regex(values: tuple[str, ...]) -> str:
    alt = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return rf"^(?:{alt})(?:,(?:{alt}))*$"


def structure_suite(contract: Contract) -> ExpectationSuite:
    """The blocking structure suite of a feed, built from its contract."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    # One expectation for every column's presence: GX spends ~3.5 ms on each expectation whatever the rows, and a
    # column each was half of the suite (a daily run validates a dozen deliveries of a few rows).
    exps: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=list(contract.names),
            exact_match=False,
            meta=_meta("exists", headers={c.name: c.header for c in contract.columns}),
        )
    ]
    for c in contract.columns:
        h = c.header
        if c.required:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=c.name, meta=_meta("required", header=h)))
        if c.type == "code":
            if c.multi:
                exps.append(
                    gxe.ExpectColumnValuesToMatchRegex(
                        column=c.name, regex=_multi_regex(c.values), meta=_meta("code_multi", header=h)
                    )
                )
            else:
                exps.append(
                    gxe.ExpectColumnValuesToBeInSet(
                        column=c.name, value_set=list(c.values), meta=_meta("code", header=h)
                    )
                )
        elif c.type == "id":
            exps.append(gxe.ExpectColumnValuesToMatchRegex(column=c.name, regex=ID_REGEX, meta=_meta("id", header=h)))
        elif c.type == "division":
            exps.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=c.name, regex=DIVISION_REGEX, meta=_meta("division", header=h)
                )
            )
        elif c.type == "amount" and not c.signed:
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(column=c.name, min_value=0, meta=_meta("non_negative", header=h))
            )
        elif c.type == "int" and (c.min is not None or c.max is not None):
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=c.name,
                    min_value=c.min,
                    max_value=c.max,
                    meta=_meta("int_range", header=h, min=c.min, max=c.max),
                )
            )
    key_headers = [contract.column(k).header for k in contract.key]
    if len(contract.key) == 1:
        exps.append(
            gxe.ExpectColumnValuesToBeUnique(
                column=contract.key[0],
                meta=_meta("key", headers=key_headers, id=contract.column(contract.key[0]).type == "id"),
            )
        )
    elif contract.key:
        exps.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(contract.key), meta=_meta("key", headers=key_headers, id=False)
            )
        )
    return gx.ExpectationSuite(name=f"{contract.feed}.structure", expectations=exps)


def profile(df: pl.DataFrame, contract: Contract | None = None) -> DeliveryProfile:
    """Row count and null rates of a delivery over the contract columns.

    Without ``contract``, every column not starting with ``_`` (and not ``county_code``) counts as a contract column.
    Contract columns missing from ``df`` are left out of ``null_rates``.
    """
    if contract is not None:
        cols = [n for n in contract.names if n in df.columns]
    else:
        cols = [n for n in df.columns if not _is_lineage(n)]
    n = df.height
    if n == 0 or not cols:
        return DeliveryProfile(row_count=n, null_rates={c: 0.0 for c in cols})
    counts = df.select(cols).null_count().row(0)
    return DeliveryProfile(row_count=n, null_rates={c: float(k) / n for c, k in zip(cols, counts)})


def drift_suite(
    contract: Contract,
    previous: DeliveryProfile,
    *,
    row_ratio: tuple[float, float] = (0.5, 2.0),
    null_rate_tolerance: float = 0.10,
) -> ExpectationSuite:
    """The warning suite: this delivery against the previous delivery's profile."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    lo, hi = row_ratio
    prev_rows = int(previous.row_count)
    exps: list[Any] = []
    if prev_rows > 0:
        min_rows = math.floor(prev_rows * lo)
        max_rows = math.ceil(prev_rows * hi)
        exps.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=min_rows,
                max_value=max_rows,
                meta=_meta("row_count", previous=prev_rows, min=min_rows, max=max_rows),
            )
        )
    for c in contract.columns:
        if prev_rows == 0 or c.name not in previous.null_rates:  # an empty delivery's null rates mean nothing
            continue
        if c.required:  # the structure suite already wants no null at all there
            continue
        prev_rate = float(previous.null_rates[c.name])
        limit = prev_rate + null_rate_tolerance
        if limit >= 1.0:
            continue
        mostly = min(1.0, max(0.0, 1.0 - limit))
        exps.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=c.name,
                mostly=mostly,
                meta=_meta("null_rate", header=c.header, previous=prev_rate, tolerance=null_rate_tolerance),
            )
        )
    return gx.ExpectationSuite(name=f"{contract.feed}.drift", expectations=exps)


def _is_lineage(name: str) -> bool:
    return name.startswith("_") or name == "county_code"
