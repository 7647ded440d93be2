"""Running a suite on a polars frame: only the columns it needs go to pandas, with one ephemeral GX context per
process; the failed expectations run again for their counts and samples. GX, pandas and numpy are imported inside
the functions: GX takes seconds to import."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fangfanpin.data_contracts.gx_suites.messages import failures_of
from fangfanpin.data_contracts.gx_suites.results import COLUMN_SET, SAMPLE_COUNT, SuiteResult
from fangfanpin.data_contracts.gx_suites.suites import DIVISION_REGEX, ID_REGEX

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from great_expectations.core import ExpectationSuite

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_COUNT}
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}


def _columns_of(exp: Any) -> list[str]:
    cols = getattr(exp, "column_list", None)
    if cols:
        return list(cols)
    col = getattr(exp, "column", None)
    return [col] if col else []


CATEGORICAL_MAX_SHARE = 0.2  # string columns with at most this share of distinct values go to pandas as categoricals


def _string_to_pandas(s: pl.Series, *, matched: bool) -> Any:
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    n = s.len()
    if not matched and n and s.n_unique() <= max(1000, CATEGORICAL_MAX_SHARE * n):
        # Low cardinality (codes, village names): GX filters the whole frame on each checked column's nulls, and a
        # categorical is taken, compared and de-duplicated on integer codes.
        return pd.Series(pc.dictionary_encode(s.to_arrow()).to_pandas())
    # Regex-matched or high cardinality (ID numbers): pandas' pyarrow-backed "str" makes GX's astype(str) a no-op and
    # runs regex / isna / duplicates in Arrow's C++ kernels.
    return s.to_pandas(use_pyarrow_extension_array=True).astype(pd.StringDtype("pyarrow", na_value=np.nan))


_NULLNESS_ONLY = frozenset({"expect_column_values_to_not_be_null"})
_REGEX = "expect_column_values_to_match_regex"


def _needs_values(exp: Any) -> bool:
    return exp.expectation_type != COLUMN_SET and exp.expectation_type not in _NULLNESS_ONLY


def value_columns(suite: ExpectationSuite) -> frozenset[str]:
    """The columns some expectation of ``suite`` needs the values of. Every other column is only checked for nulls or
    for being there, so a caller may hand it over as its null pattern alone (a TINYINT, null where the value is):
    a province's roster then goes to the checks without its names and addresses.

    >>> from fangfanpin.data_contracts import load_contract
    >>> from fangfanpin.data_contracts.gx_suites import structure_suite
    >>> sorted(value_columns(structure_suite(load_contract("medical_enrollment"))))
    ['enrolment_status', 'id_number', 'insurance_year', 'scheme', 'subsidy_category']
    """
    return frozenset(c for exp in suite.expectations if _needs_values(exp) for c in _columns_of(exp))


def _to_pandas(df: pl.DataFrame, nullness_only: list[str] = (), matched: set[str] = frozenset()) -> Any:
    """polars -> pandas, column by column.

    Columns in ``nullness_only`` are only checked for presence / nulls (e.g. 姓名, 户编号 in most suites): they go
    over as float64 with NaN for null and 0.0 otherwise, which gives GX the same null pattern without converting
    their values. Strings become categoricals when of low cardinality and not in ``matched`` (columns matched
    against a regex), else pyarrow-backed "str" (NaN for null); ints with nulls float64 (NaN); dates
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
            data[s.name] = _string_to_pandas(s, matched=s.name in matched)
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
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory frame under this many bytes (a hash of every value, kept as a batch marker
    # that nothing here reads): at a million households the costliest step of a validation.
    pandas_execution_engine.HASH_THRESHOLD = 0
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


def _forget_frame() -> None:
    """Drop what the execution engine kept of the last validation: its batch (the pandas frame) and its metric cache,
    which holds full-length Series of the frame. Kept, a province's roster stayed in memory through the steps after
    its checks, until the next validation replaced it."""
    engine = _whole_frame_batch().data_asset.datasource.get_execution_engine()
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    engine._metric_cache.clear()  # no public way; pinned GX, and tests/data_contracts checks nothing stays alive


def _run(pdf: Any, expectations: list[Any], name: str) -> list[Any]:
    """Every expectation's result. A first pass asks GX for pass/fail only (half the metrics); the failed ones, rare,
    run again for their counts and sample values, on the same batch."""
    try:
        results = _run_once(pdf, expectations, name, PASS_FAIL_FORMAT)
        failed = [r.expectation_config.to_domain_obj() for r in results if not r.success]
        if not failed:
            return results
        return [r for r in results if r.success] + _run_once(pdf, failed, name, RESULT_FORMAT)
    finally:
        _forget_frame()


def _run_pass_fail(pdf: Any, expectations: list[Any], name: str) -> list[Any]:
    """Every expectation's pass or fail, in order, without counts or samples."""
    try:
        return _run_once(pdf, expectations, name, PASS_FAIL_FORMAT)
    finally:
        _forget_frame()


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
    with _configurations_built_once():
        return list(validator.validate_expectation_suite(suite).results)


_memo = threading.local()  # ``built``: this thread's memo while it validates, else None


@contextmanager
def _configurations_built_once() -> Iterator[None]:
    """While it lasts, each expectation's ``configuration`` is built once on this thread. GX's property builds a new
    one from the whole model on every read, and a validation reads it once for each keyword of each expectation. The
    expectations read here are GX's own copies made for this validation, which it only reads; outside the block (or
    on another thread) the property is GX's own."""
    _memoise_configurations()
    outer = getattr(_memo, "built", None)
    _memo.built = {}
    try:
        yield
    finally:
        _memo.built = outer


@functools.cache
def _memoise_configurations() -> None:
    """Install, once a process, GX's ``Expectation.configuration`` behind the memo of ``_configurations_built_once``."""
    from great_expectations.expectations.expectation import Expectation

    gx_property = Expectation.__dict__["configuration"]

    def configuration(expectation: Any) -> Any:
        built = getattr(_memo, "built", None)
        if built is None:
            return gx_property.fget(expectation)
        # keyed by id, the expectation kept with it: no other object can take its id while the memo lasts
        entry = built.get(id(expectation))
        if entry is None:
            entry = built[id(expectation)] = (expectation, gx_property.fget(expectation))
        return entry[1]

    Expectation.configuration = property(configuration, doc=gx_property.__doc__)


def _copy(exp: Any) -> Any:
    """A fresh expectation with the same configuration (not bound to the original suite)."""
    return exp.configuration.to_domain_obj()


def validate(df: pl.DataFrame, suite: ExpectationSuite, *, max_rows: int | None = None) -> SuiteResult:
    """Validate ``df`` against ``suite`` and return the failures with Chinese messages.

    Only the columns the suite needs are converted to pandas (see :func:`_to_pandas`). Expectations on a column that is
    missing from ``df`` are not run (the suite's column-set expectation reports it).

    The suite's column-set expectation sees every present column (columns only checked for presence go over as
    int8 stand-ins, their values unconverted). On a large frame, a key that no two rows share and an ID or division
    pattern every value matches pass without GX (:func:`_decided_in_polars`), and a code column's allowed values and
    patterns are first checked on its distinct values (:func:`_decided_on_distinct_values`).

    ``max_rows``: validate a seeded random sample of at most that many rows instead of the whole frame; row-count
    expectations still see the full height, but uniqueness then only sees duplicates inside the sample.
    """
    present = set(df.columns)
    table_exps: list[Any] = []
    column_exps: list[Any] = []
    exists_only: list[str] = []  # present columns whose only check is existence: no need to convert their values
    for exp in suite.expectations:
        if exp.expectation_type == COLUMN_SET:
            column_exps.append(_copy(exp))
            exists_only += [c for c in exp.column_set if c in present and c not in exists_only]
            continue
        cols = _columns_of(exp)
        if any(c not in present for c in cols):
            continue  # reported by the column-presence expectation
        (column_exps if cols else table_exps).append(_copy(exp))

    sample = max_rows is not None and df.height > max_rows
    results: list[Any] = []
    if column_exps and not sample:
        # in GX's order first: a decided expectation taken out must not move its column's group of failures
        column_exps = _in_gx_order(column_exps)
        in_polars, column_exps = _decided_in_polars(df, column_exps)
        on_distinct, column_exps = _decided_on_distinct_values(df, column_exps, suite.name)
        results.extend(in_polars + on_distinct)
    if column_exps or (table_exps and not sample):
        needed, full_values, matched = _needs(column_exps)
        height = max_rows if sample else df.height  # a frame of no column has no height of its own
        if needed:
            frame = df.select(needed)
            if sample:
                frame = frame.sample(n=max_rows, seed=0)
            pdf = _to_pandas(frame, nullness_only=[c for c in needed if c not in full_values], matched=matched)
        else:
            import pandas as pd

            pdf = pd.DataFrame(index=pd.RangeIndex(height))
        placeholders = [c for c in exists_only if c not in needed]
        if placeholders:
            # presence checks only look at the column names: a cheap int8 stand-in avoids converting values.
            import numpy as np

            zeros = np.zeros(height, dtype=np.int8)
            for c in placeholders:
                pdf[c] = zeros
        run_exps = column_exps + ([] if sample else table_exps)
        results.extend(_run(pdf, run_exps, suite.name))
    if table_exps and sample:
        import pandas as pd

        results.extend(_run(pd.DataFrame(index=pd.RangeIndex(df.height)), table_exps, suite.name))

    failures = [f for r in results if not r.success for f in failures_of(r)]
    return SuiteResult(success=not failures, evaluated=len(results), failures=failures)


def _needs(expectations: list[Any]) -> tuple[list[str], set[str], set[str]]:
    """The columns ``expectations`` read, in order; those some expectation needs the values of (not just null / not
    null); those some expectation matches against a regex."""
    needed: list[str] = []
    full_values: set[str] = set()
    matched: set[str] = set()
    for exp in expectations:  # the column-set expectation names no column of its own (_columns_of)
        for c in _columns_of(exp):
            if c not in needed:
                needed.append(c)
            if _needs_values(exp):
                full_values.add(c)
            if exp.expectation_type == _REGEX:
                matched.add(c)
    return needed, full_values, matched


DISTINCT_MIN_ROWS = 50_000  # below this a second validation costs more than converting the rows
_SET_BASED = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set", _REGEX})


def _decided_on_distinct_values(df: pl.DataFrame, expectations: list[Any], name: str) -> tuple[list[Any], list[Any]]:
    """(the results of the expectations that passed on their columns' distinct values, every other expectation in
    its order). A value-by-value expectation without ``mostly`` (not null, in a set, matching a pattern) passes on a
    column exactly when it passes on the column's distinct values, and a code column of a million rows holds a few
    dozen. So on a large frame, the string columns of at most ``CATEGORICAL_MAX_SHARE`` distinct values whose
    expectations are all of that kind are checked once on their distinct values, each column padded to one height
    by repeating one of its own values. A failed expectation runs again on every row, for its counts and samples.

    ``expectations`` come in the order GX evaluates and reports them (:func:`_in_gx_order`, as ``validate`` puts
    them), so that the run over every row reports its failures in the order a single run would. A suite with a row
    condition (which may read other columns, row by row) is left whole to the run over every row."""
    if df.height < DISTINCT_MIN_ROWS or any(getattr(e, "row_condition", None) for e in expectations):
        return [], expectations
    import numpy as np
    import polars as pl

    kinds: dict[str, set[str]] = {}  # a column's kinds of expectation: values (in a set, a pattern), nulls, other
    for exp in expectations:
        for c in _columns_of(exp):
            set_based = (
                exp.expectation_type in _SET_BASED and getattr(exp, "mostly", 1) == 1 and len(_columns_of(exp)) == 1
            )
            kinds.setdefault(c, set()).add(("values" if _needs_values(exp) else "nulls") if set_based else "other")
    limit = CATEGORICAL_MAX_SHARE * df.height
    candidates = [c for c, k in kinds.items() if "values" in k and "other" not in k and df.schema[c] == pl.Utf8]
    distinct = {
        c: v.sort()
        for c in candidates
        if _maybe_few_distinct(df.get_column(c), limit) and len(v := df.get_column(c).unique()) <= limit
    }
    chosen = [i for i, exp in enumerate(expectations) if _columns_of(exp) and set(_columns_of(exp)) <= set(distinct)]
    if not chosen:
        return [], expectations
    height = max(len(v) for v in distinct.values())
    padded = pl.DataFrame([v.gather(np.minimum(np.arange(height), len(v) - 1)) for v in distinct.values()])
    _, _, matched = _needs([expectations[i] for i in chosen])
    checked = _run_pass_fail(_to_pandas(padded, matched=matched), [expectations[i] for i in chosen], name)
    if [(r.expectation_config.type, r.expectation_config.kwargs.get("column")) for r in checked] != [
        (expectations[i].expectation_type, expectations[i].column) for i in chosen
    ]:  # not GX's order after all: decide nothing rather than pair a result with another expectation
        return [], expectations
    passed = {i for i, r in zip(chosen, checked) if r.success}
    return [r for r in checked if r.success], [e for i, e in enumerate(expectations) if i not in passed]


_UNIQUE = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})
# patterns that read alike in polars' regex engine, pyarrow's RE2 and Python's re (GX's pandas uses either): ASCII
# digit ranges, counts and anchors only. Where a value ends in a line break, Python's $ matches before it and polars'
# does not, so polars is the stricter. Other patterns (a class like [[:digit:]] or \d, a flag, a class subtraction)
# are read differently by some of the three and go to GX.
PLAIN_PATTERNS = frozenset({ID_REGEX, DIVISION_REGEX})


@dataclass(frozen=True)
class DecidedPass:
    """The result of an expectation decided to pass without GX: only ``success`` is read of a passed one."""

    expectation: Any
    success: bool = True


def _decided_in_polars(df: pl.DataFrame, expectations: list[Any]) -> tuple[list[Any], list[Any]]:
    """(the passes of the expectations polars finds no row breaking, every other expectation in its order), on a large
    frame. Two kinds, each decided by a test at least as strict as GX's, so that when no row fails it GX passes too,
    whatever share of rows (``mostly``) it allows; otherwise, or with a row condition (which GX may fail to read), the
    expectation runs in GX on every row, for its counts and samples:

    - a key, unique for GX when no two rows share its values (rows whose values are missing left out): polars finds
      whether any two rows share them at all, a missing value equal to another (:func:`_no_two_rows_share`);
    - an ID number's or a division code's pattern (``PLAIN_PATTERNS``) that every present value matches.

    Only a key whose columns GX's frame keeps apart (:func:`_kept_apart`) is decided.

    On a million rows GX took most of a snapshot's check on these (pandas factorising an ID column, matching it)."""
    if df.height < DISTINCT_MIN_ROWS:
        return [], expectations
    import polars as pl

    passed, rest = [], []
    for exp in expectations:
        columns = _columns_of(exp)
        if not columns or getattr(exp, "row_condition", None):
            rest.append(exp)
        elif (
            exp.expectation_type in _UNIQUE
            and all(_kept_apart(df.get_column(c)) for c in columns)
            and _no_two_rows_share(df, columns)
        ):
            passed.append(DecidedPass(exp))
        elif (
            exp.expectation_type == _REGEX
            and exp.regex in PLAIN_PATTERNS
            and df.schema[columns[0]] == pl.Utf8
            and df.get_column(columns[0]).str.contains(exp.regex).all()
        ):
            passed.append(DecidedPass(exp))
        else:
            rest.append(exp)
    return passed, rest


def _kept_apart(column: pl.Series) -> bool:
    """Whether GX's frame keeps ``column``'s distinct values apart (:func:`_to_pandas`): a text, date or yes/no
    column, or integers without a missing value (with one, they become float64, where 2**53 and 2**53 + 1 meet; a
    float's null becomes NaN, equal to NaN for pandas)."""
    import polars as pl

    if column.dtype.is_integer():
        return column.null_count() == 0
    return column.dtype in (pl.Utf8, pl.Boolean) or column.dtype.is_temporal()


def _no_two_rows_share(df: pl.DataFrame, columns: list[str]) -> bool:
    """Whether no two rows hold the same values in ``columns``, a missing value equal to another. Rows that do hash
    alike, so distinct hashes prove it; a collision only sends the key to GX. Comparing the rows themselves held a
    copy of every key (1.4 GB more at the peak for an enrolment's 6.7 M rows), the hashes 140 MB."""
    import polars as pl

    hashes = df.select(pl.struct(columns).hash()).to_series()
    return hashes.n_unique() == hashes.len()


def _maybe_few_distinct(column: pl.Series, limit: float) -> bool:
    """Whether ``column`` may hold at most ``limit`` distinct values. HyperLogLog's estimate, off by a few per cent,
    rules out a column of far more (an ID column: gathering its distinct values took a second a snapshot) without
    gathering them; either way the results are the same, only the path to them differs."""
    return column.approx_n_unique() <= 1.5 * limit


def _in_gx_order(expectations: list[Any]) -> list[Any]:
    """``expectations`` in the order GX's Validator evaluates and reports them: grouped by their ``column`` (those
    without one together), the groups in order of first appearance (``Validator.process_expectations_for_validation``)."""
    groups: dict[str | None, list[Any]] = {}
    for exp in expectations:
        column = getattr(exp, "column", None)
        groups.setdefault(column if isinstance(column, str) else None, []).append(exp)
    return [exp for group in groups.values() for exp in group]
