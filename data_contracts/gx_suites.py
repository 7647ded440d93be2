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

    >>> from data_contracts import load_contract
    >>> suite = structure_suite(load_contract("roster"))          # doctest: +SKIP
    >>> result = validate(roster_df, suite)                         # doctest: +SKIP
    >>> [f.message_zh for f in result.failures]                     # doctest: +SKIP
    ['必填列 证件号码 有 3 行为空']
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fangfanpin.core.privacy import mask_id, mask_text
from fangfanpin.data_contracts import Contract

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from great_expectations.core import ExpectationSuite

__all__ = [
    "DeliveryProfile",
    "Failure",
    "SuiteResult",
    "drift_suite",
    "profile",
    "structure_suite",
    "validate",
]

ID_REGEX = r"^[0-9]{17}[0-9X]$"
DIVISION_REGEX = r"^[0-9]{12}$"
META_KEY = "fangfanpin"  # our own annotations in each expectation's meta: what is checked, Chinese headers, ...
SAMPLE_COUNT = 5  # how many unexpected values GX reports (and we show) per failed expectation
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_COUNT}
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}

# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Failure:
    expectation: str  # GX expectation type, e.g. "expect_column_values_to_not_be_null"
    column: str | None  # English column name (comma-joined for compound keys), None for table-level checks
    observed: str | int | float | None  # short observed value: unexpected count, row count, null rate, ...
    message_zh: str  # short Chinese explanation naming the column by its Chinese header

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "observed": self.observed,
            "message_zh": self.message_zh,
        }


@dataclass(frozen=True)
class SuiteResult:
    success: bool
    evaluated: int  # number of expectations evaluated
    failures: list[Failure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "evaluated": self.evaluated,
            "failures": [f.to_dict() for f in self.failures],
        }

    @property
    def messages_zh(self) -> list[str]:
        return [f.message_zh for f in self.failures]


@dataclass(frozen=True)
class DeliveryProfile:
    """Row count and per-column null rates of one delivery (contract columns only)."""

    row_count: int
    null_rates: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"row_count": int(self.row_count), "null_rates": {k: float(v) for k, v in self.null_rates.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryProfile:
        return cls(
            row_count=int(data["row_count"]),
            null_rates={str(k): float(v) for k, v in dict(data.get("null_rates", {})).items()},
        )


# ---------------------------------------------------------------------------------------------------------------
# Suites


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


# ---------------------------------------------------------------------------------------------------------------
# Validation


def _is_lineage(name: str) -> bool:
    return name.startswith("_") or name == "county_code"


def _columns_of(exp: Any) -> list[str]:
    cols = getattr(exp, "column_list", None)
    if cols:
        return list(cols)
    col = getattr(exp, "column", None)
    return [col] if col else []


CATEGORICAL_MAX_SHARE = 0.2  # string columns with at most this share of distinct values go to pandas as categoricals


def _string_to_pandas(s: pl.Series) -> Any:
    import numpy as np
    import pandas as pd
    import polars as pl

    n = s.len()
    uniques = s.drop_nulls().unique()
    if n and uniques.len() <= max(1000, CATEGORICAL_MAX_SHARE * n):
        # Low cardinality (codes, village names, household ids): a categorical hashes, isin-s, null-checks and
        # de-duplicates on integer codes, and builds only len(categories) Python strings.
        cats = uniques.sort()
        codes = s.cast(pl.Enum(cats.to_list())).to_physical().cast(pl.Int32).fill_null(-1).to_numpy()
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(cats.to_numpy().astype(object))))
    if _have_pyarrow():
        # High cardinality (ID numbers): pandas' pyarrow-backed "str" makes GX's astype(str) a no-op and runs
        # regex / isna in Arrow's C++ kernels (3.5M-row roster: ~17 s CPU instead of ~24 s).
        return s.to_pandas(use_pyarrow_extension_array=True).astype(pd.StringDtype("pyarrow", na_value=np.nan))
    return pd.Series(s.to_numpy(), dtype=object, copy=False)


def _have_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


_NULLNESS_ONLY = frozenset({"expect_column_values_to_not_be_null"})
COLUMN_SET = "expect_table_columns_to_match_set"  # the structure suite's one presence check


def _to_pandas(df: pl.DataFrame, nullness_only: list[str] = ()) -> Any:
    """polars -> pandas, column by column (works without pyarrow, which this project does not depend on).

    Columns in ``nullness_only`` are only checked for presence / nulls (e.g. 姓名, 户编号 in most suites): they go
    over as float64 with NaN for null and 0.0 otherwise, which gives GX the same null pattern without building
    millions of Python strings. Low-cardinality strings become categoricals, other strings pyarrow-backed "str"
    when pyarrow is installed, else object columns (None for null); ints with nulls float64 (NaN); dates
    datetime64 (NaT); booleans with nulls pandas' masked boolean array.
    """
    import numpy as np
    import pandas as pd
    import polars as pl

    data: dict[str, Any] = {}
    for s in df.iter_columns():
        if s.name in nullness_only:
            data[s.name] = pd.Series(np.where(s.is_null().to_numpy(), np.nan, 0.0))
        elif s.dtype == pl.Utf8:
            data[s.name] = _string_to_pandas(s)
        elif s.dtype == pl.Boolean and s.null_count():
            mask = s.is_null().to_numpy()
            values = s.fill_null(False).to_numpy()
            data[s.name] = pd.Series(pd.arrays.BooleanArray(values, mask))
        else:
            arr = s.to_numpy()
            data[s.name] = pd.Series(arr, dtype=object if arr.dtype == object else None, copy=False)
    return pd.DataFrame(data, copy=False)


@functools.cache
def _new_context() -> Any:
    """One ephemeral context per process (creating one costs about a second); it holds the one pandas datasource
    below, and no suite or result (see :func:`_run_once`)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    except Exception:  # pragma: no cover - cosmetic only
        pass
    return context


@functools.cache
def _whole_frame_batch() -> Any:
    """One pandas datasource and whole-dataframe batch definition per process: each run hands its own frame in as a
    batch parameter, so they need no datasource of their own (adding and deleting one cost ~30 ms a validation)."""
    source = _new_context().data_sources.add_pandas(name="ffp_frames")
    return source.add_dataframe_asset(name="frame").add_batch_definition_whole_dataframe("whole_frame")


def _run(pdf: Any, expectations: list[Any], name: str) -> list[Any]:
    """Every expectation's result. A first pass asks GX for pass/fail only (half the metrics); the failed ones, rare,
    run again for their counts and sample values, on the same batch."""
    results = _run_once(pdf, expectations, name, PASS_FAIL_FORMAT)
    failed = [r.expectation_config.to_domain_obj() for r in results if not r.success]
    if not failed:
        return results
    return [r for r in results if r.success] + _run_once(pdf, failed, name, RESULT_FORMAT)


def _run_once(pdf: Any, expectations: list[Any], name: str, result_format: dict) -> list[Any]:
    """Run ``expectations`` on ``pdf`` with GX's own Validator, the one ``ValidationDefinition.run`` and
    ``Batch.validate`` use. Going through a ValidationDefinition would also add the suite to the context and store
    every result in the context's in-memory results store, which only grew (nothing here reads it back): a quarter of
    GX's time in a daily run, and memory held for the life of the process."""
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    suite = gx.ExpectationSuite(name=name, expectations=expectations)  # a suite of no context: nothing to collide with
    validator = Validator(
        batch_definition=_whole_frame_batch(), batch_parameters={"dataframe": pdf}, result_format=result_format
    )
    return list(validator.validate_expectation_suite(suite).results)


def _copy(exp: Any) -> Any:
    """A fresh expectation with the same configuration (not bound to the original suite)."""
    return exp.configuration.to_domain_obj()


def validate(df: pl.DataFrame, suite: ExpectationSuite, *, max_rows: int | None = None) -> SuiteResult:
    """Validate ``df`` against ``suite`` and return the failures with Chinese messages.

    Only the columns the suite needs are converted to pandas (see :func:`_to_pandas`). Expectations on a column that is
    missing from ``df`` are not run (the suite's column-set expectation reports it).

    The suite's column-set expectation sees every present column (columns only checked for presence go over as
    int8 stand-ins, their values unconverted).

    ``max_rows``: validate a seeded random sample of at most that many rows instead of the whole frame; row-count
    expectations still see the full height, but uniqueness then only sees duplicates inside the sample.
    """
    present = set(df.columns)
    table_exps: list[Any] = []
    column_exps: list[Any] = []
    needed: list[str] = []
    full_values: set[str] = set()  # columns some expectation needs the values of (not just null / not null)
    exists_only: list[str] = []  # present columns whose only check is existence: no need to convert their values
    for exp in suite.expectations:
        if exp.expectation_type == COLUMN_SET:
            column_exps.append(_copy(exp))
            exists_only += [c for c in exp.column_set if c in present and c not in exists_only]
            continue
        cols = _columns_of(exp)
        if any(c not in present for c in cols):
            continue  # reported by the column-presence expectation
        for c in cols:
            if c not in needed:
                needed.append(c)
            if exp.expectation_type not in _NULLNESS_ONLY:
                full_values.add(c)
        (column_exps if cols else table_exps).append(_copy(exp))

    sample = max_rows is not None and df.height > max_rows
    results: list[Any] = []
    if column_exps or (table_exps and not sample):
        frame = df.select(needed)
        if sample:
            frame = frame.sample(n=max_rows, seed=0)
        pdf = _to_pandas(frame, nullness_only=[c for c in needed if c not in full_values])
        placeholders = [c for c in exists_only if c not in needed]
        if placeholders:
            # presence checks only look at the column names: a cheap int8 stand-in avoids converting values.
            import numpy as np

            zeros = np.zeros(frame.height, dtype=np.int8)
            for c in placeholders:
                pdf[c] = zeros
        run_exps = column_exps + ([] if sample else table_exps)
        results.extend(_run(pdf, run_exps, suite.name))
    if table_exps and sample:
        import pandas as pd

        results.extend(_run(pd.DataFrame(index=pd.RangeIndex(df.height)), table_exps, suite.name))

    failures = [f for r in results if not r.success for f in _failures(r)]
    return SuiteResult(success=not failures, evaluated=len(results), failures=failures)


# ---------------------------------------------------------------------------------------------------------------
# Messages


def _show(values: list[Any], *, id_values: bool) -> str:
    shown: list[str] = []
    for v in values:
        s = "空" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        s = mask_id(s) if id_values else mask_text(s)
        if s not in shown:
            shown.append(s)
    return "[" + ", ".join(f"'{s}'" for s in shown[:SAMPLE_COUNT]) + "]"


def _failures(r: Any) -> list[Failure]:
    """The failures of one result: one per missing column for the column set, else one."""
    cfg = r.expectation_config
    if cfg.type == COLUMN_SET:
        missing = ((r.result or {}).get("details") or {}).get("mismatched", {}).get("missing") or []
        headers = (cfg.meta or {}).get(META_KEY, {}).get("headers", {})
        if missing:
            return [Failure(cfg.type, c, "missing", f"缺少列 {headers.get(c, c)}") for c in missing]
    return [_failure(r)]


def _failure(r: Any) -> Failure:
    cfg = r.expectation_config
    etype = cfg.type
    kwargs = dict(cfg.kwargs)
    meta = dict((cfg.meta or {}).get(META_KEY, {}))
    check = meta.get("check", "")
    res = dict(r.result or {})
    column = kwargs.get("column")
    if kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    header = meta.get("header") or column or ""
    n = res.get("unexpected_count")
    samples = list(res.get("partial_unexpected_list") or [])
    exc = (r.exception_info or {}) if isinstance(r.exception_info, dict) else {}

    if exc.get("raised_exception"):
        msg = str(exc.get("exception_message") or "")[:200]
        return Failure(etype, column, "error", mask_text(f"检查 {etype}（列 {header}）未能执行：{msg}"))

    if check == "required":
        return Failure(etype, column, n, f"必填列 {header} 有 {n:,} 行为空")
    if check in ("code", "code_multi"):
        return Failure(etype, column, n, f"列 {header} 有 {n:,} 个值不在允许范围内：{_show(samples, id_values=False)}")
    if check == "id":
        return Failure(etype, column, n, f"列 {header} 有 {n:,} 个值不是18位证件号码：{_show(samples, id_values=True)}")
    if check == "division":
        return Failure(
            etype, column, n, f"列 {header} 有 {n:,} 个值不是12位行政区划代码：{_show(samples, id_values=False)}"
        )
    if check == "non_negative":
        return Failure(etype, column, n, f"金额列 {header} 有 {n:,} 个负值：{_show(samples, id_values=False)}")
    if check == "int_range":
        lo = "" if meta.get("min") is None else meta["min"]
        hi = "" if meta.get("max") is None else meta["max"]
        return Failure(
            etype, column, n, f"列 {header} 有 {n:,} 个值超出范围 [{lo}, {hi}]：{_show(samples, id_values=False)}"
        )
    if check == "key":
        headers = ", ".join(meta.get("headers") or [column or ""])
        if etype == "expect_compound_columns_to_be_unique":
            rows = [", ".join(map(str, s.values())) if isinstance(s, dict) else s for s in samples]
            shown = _show(rows, id_values=False)
        else:
            shown = _show(samples, id_values=bool(meta.get("id")))
        return Failure(etype, column, n, f"键 ({headers}) 有 {n:,} 行重复：{shown}")
    if check == "row_count":
        obs = res.get("observed_value")
        prev = meta.get("previous", 0)
        return Failure(
            etype,
            None,
            obs,
            f"行数 {obs:,} 与上次交付 {prev:,} 相比变化过大（允许 {meta.get('min', 0):,}–{meta.get('max', 0):,}）",
        )
    if check == "null_rate":
        pct = res.get("unexpected_percent")
        rate = round(float(pct) / 100.0, 4) if pct is not None else None
        prev = float(meta.get("previous", 0.0))
        tol = float(meta.get("tolerance", 0.0))
        shown = "?" if rate is None else f"{rate:.1%}"
        return Failure(etype, column, rate, f"列 {header} 空值比例 {shown}，上次交付为 {prev:.1%}，升幅超过 {tol:.0%}")
    # An expectation we did not build (a hand-made suite): a generic message.
    observed = n if n is not None else res.get("observed_value")
    if isinstance(observed, (list, dict, tuple)):
        observed = mask_text(str(observed))[:100]
    elif isinstance(observed, str):
        observed = mask_text(observed)[:100]
    where = f"列 {header} " if header else ""
    return Failure(etype, column, observed, mask_text(f"{where}未通过检查 {etype}（观测值 {observed}）"))
