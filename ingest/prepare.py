"""Turn one feed's files for one delivery date into typed rows, quarantined rows and reports, under its contract.

No warehouse access here: everything is decided from the files and the contract, so it is testable on its own.
Counts reconcile: rows_read = rows_loaded + duplicates + superseded + quarantined (``PreparedDelivery.reconciles``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from fangfanpin.config.policy import FileLimits
from fangfanpin.core.privacy import mask_text
from fangfanpin.core.settings import available_cores
from fangfanpin.data_contracts import Column, Contract
from fangfanpin.ingest.damage import split_damaged_rows
from fangfanpin.ingest.headers import EXTRA, FILE, FILE_SEQ, map_file, without_unanswered_rows
from fangfanpin.ingest.landing import county_in_name
from fangfanpin.ingest.normalize import normalize_column
from fangfanpin.ingest.read import DEFAULT_LIMITS, ROW, RawFile, UnreadableFile, read_file

IDX = "_idx"  # a row's position in the frame being normalised
# A file at least this long has its columns normalised side by side, one thread a core: polars runs a column's string
# kernels on one thread and releases the GIL meanwhile. Below it, starting threads costs more than it saves.
PARALLEL_ROWS = 50_000

# One record per problem; several records may share a row.
ISSUE_SCHEMA = {
    "file": pl.Utf8,
    "row": pl.Int64,
    "column": pl.Utf8,
    "raw_value": pl.Utf8,
    "problem": pl.Utf8,
}


@dataclass
class FileSummary:
    name: str
    encoding: str
    rows: int
    rejected: bool = False


@dataclass
class PreparedDelivery:
    contract: Contract
    delivery_date: date
    rows: pl.DataFrame  # typed contract columns + _file, _file_seq, _row, _extra
    quarantine: pl.DataFrame  # ISSUE_SCHEMA: rows not loaded, with the reason
    reports: pl.DataFrame  # ISSUE_SCHEMA + action: loaded but reported (repairs, nulled values, unknown columns...)
    files: list[FileSummary] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0
    superseded: int = 0
    quarantined_rows: int = 0
    # file, row and the placement columns (Contract.placement_columns) of rows that were read but not loaded (quarantined
    # for a value, or superseded by a later row): the warehouse places their issues in a county like a loaded row, so
    # the county's workbook lists its own rows
    issue_keys: pl.DataFrame | None = None
    file_counties: dict[str, str] = field(default_factory=dict)  # the county each file's name gives (ingest.landing)
    fingerprint: str | None = None  # the files and what reading them depends on (ingest.unchanged)
    # re-sent unchanged (ingest.unchanged): ``rows`` is empty and the warehouse copies the same_rows rows stored for
    # the delivery of ``same_as``
    same_as: date | None = None
    same_rows: int = 0

    @property
    def rows_loaded(self) -> int:
        return self.same_rows if self.same_as else self.rows.height

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.duplicates + self.superseded + self.quarantined_rows


def _issues(records: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=ISSUE_SCHEMA)


def _masked(issues: pl.DataFrame) -> pl.DataFrame:
    """Problem and column texts quote input (a header, a file or sheet name, a parser's words): they pass the one
    masking function here, once, for every place that shows them. Raw values stay as read, in the warehouse only;
    file names too, because rows are found by them (outputs mask them)."""
    for column in ("problem", "column"):
        texts = issues.get_column(column).drop_nulls().unique().to_list()
        changed = {t: m for t in texts if (m := mask_text(t)) != t}
        if changed:
            issues = issues.with_columns(pl.col(column).replace(changed))
    return issues


def _empty_rows(contract: Contract) -> pl.DataFrame:
    return pl.DataFrame(
        schema={c.name: pl.Utf8 for c in contract.columns}
        | {FILE: pl.Utf8, FILE_SEQ: pl.Int64, ROW: pl.Int64, EXTRA: pl.Utf8}
    )


@functools.lru_cache(maxsize=64)
def empty_typed(contract: Contract) -> pl.DataFrame:
    """The typed rows of a day without rows, normalised once per contract (their schema depends on nothing else):
    most feeds deliver nothing on most days, and normalising no rows still cost 13 ms a feed."""
    return _normalise(contract, _empty_rows(contract), date(2000, 1, 1), frozenset())[0].drop(IDX)


def _read_or_error(path: Path, limits: FileLimits) -> RawFile | UnreadableFile:
    try:
        return read_file(path, limits)
    except UnreadableFile as exc:
        return exc


def _read_ahead(files: list[Path], limits: FileLimits):
    """Yield (path, RawFile | UnreadableFile), reading the next file while the current one is normalised: one
    file's raw text in memory at a time, and polars' parsing overlaps Python's GB18030 decoding."""
    if not files:
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_read_or_error, files[0], limits)
        for i, path in enumerate(files):
            raw = pending.result()
            if i + 1 < len(files):
                pending = pool.submit(_read_or_error, files[i + 1], limits)
            yield path, raw


def prepare_delivery(
    contract: Contract,
    files: list[Path],
    delivery_date: date,
    known_counties: frozenset[str] | None = None,
    limits: FileLimits = DEFAULT_LIMITS,
) -> PreparedDelivery:
    file_issues: list[dict] = []
    reports: list[dict] = []
    good_parts, quarantine_parts, report_parts, key_parts = [], [], [], []
    summaries: list[FileSummary] = []
    rows_read = quarantined_rows = 0
    for seq, (path, raw) in enumerate(_read_ahead(files, limits)):
        if isinstance(raw, UnreadableFile):
            file_issues.append({"file": path.name, "row": None, "column": None, "raw_value": None, "problem": str(raw)})
            summaries.append(FileSummary(path.name, "?", 0, rejected=True))
            continue
        read_here = raw.rows_read
        rows_read += read_here
        raw, damaged = split_damaged_rows(raw)
        file_issues += raw.dropped + damaged
        quarantined_rows += read_here - raw.frame.height
        frame, q, r = map_file(contract, raw, seq)
        file_issues += q
        reports += r + raw.row_notes
        unanswered = 0
        if frame is not None:
            frame, unanswered = without_unanswered_rows(contract, frame)
            rows_read -= unanswered
            read_here -= unanswered
            if unanswered:
                reports.append(
                    {
                        "file": path.name,
                        "row": None,
                        "column": None,
                        "raw_value": None,
                        "problem": f"回传模板中有 {unanswered:,} 行只有预填内容、未填写结果，视为未回传，未载入",
                    }
                )
        if read_here == 0 and not unanswered:
            reports.append(
                {
                    "file": path.name,
                    "row": None,
                    "column": None,
                    "raw_value": None,
                    "problem": f"文件 {path.name} 只有表头，没有数据行",
                }
            )
        summaries.append(FileSummary(path.name, raw.encoding, read_here, rejected=frame is None))
        if frame is None:
            quarantined_rows += raw.frame.height
            del raw
            continue
        del raw
        typed, row_quarantine, row_reports = _normalise(contract, frame, delivery_date, known_counties)
        del frame
        bad = row_quarantine.get_column(IDX).unique()
        quarantined_rows += bad.len()
        # one chunk a column: columns chunked unlike each other are copied whole by every later select and scan
        good_parts.append((typed.filter(~pl.col(IDX).is_in(bad.implode())) if bad.len() else typed).drop(IDX).rechunk())
        if bad.len():
            key_parts.append(
                typed.filter(pl.col(IDX).is_in(bad.implode())).select(
                    pl.col(FILE).alias("file"), pl.col(ROW).alias("row"), *contract.placement_columns
                )
            )
        quarantine_parts.append(row_quarantine.drop(IDX))
        report_parts.append(row_reports.drop(IDX))
    if not good_parts:
        good_parts = [empty_typed(contract)]
    good, duplicates, superseded, conflict_reports, losers = _resolve_keys(contract, good_parts)
    if losers.height:
        key_parts.append(
            losers.select(pl.col(FILE).alias("file"), pl.col(ROW).alias("row"), *contract.placement_columns)
        )
    checked = [ROW_REPORTS[name](good) for name in contract.row_checks if name in ROW_REPORTS]
    return PreparedDelivery(
        contract=contract,
        delivery_date=delivery_date,
        rows=good,
        quarantine=_masked(pl.concat([_issues(file_issues), *quarantine_parts], how="vertical")),
        reports=_masked(pl.concat([_issues(reports), *report_parts, conflict_reports, *checked], how="vertical")),
        files=summaries,
        rows_read=rows_read,
        duplicates=duplicates,
        superseded=superseded,
        quarantined_rows=quarantined_rows,
        issue_keys=pl.concat(key_parts, how="vertical") if key_parts else None,
        file_counties={p.name: c for p in files if (c := county_in_name(p.name, known_counties or frozenset()))},
    )


def _normalise(
    contract: Contract, raw_rows: pl.DataFrame, delivery_date: date, known_counties: frozenset[str] | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Normalise every column; problems in required or key columns quarantine the row, others null the value."""
    raw_rows = raw_rows.with_row_index(IDX).with_columns(pl.col(IDX).cast(pl.Int64))
    typed_columns = []
    quarantine_parts, report_parts = [], []
    lineage = raw_rows.select(IDX, pl.col(FILE).alias("file"), pl.col(ROW).alias("row"))
    for column, result in _normalised_columns(contract, raw_rows, delivery_date, known_counties):
        raw = raw_rows.get_column(column.name)
        typed_columns.append(result.get_column("value").alias(column.name))
        problem, note = result.get_column("problem"), result.get_column("note")
        if column.required:  # a normaliser gives neither value nor problem for a blank cell
            blank = result.get_column("value").is_null() & problem.is_null()
            problem = pl.select(
                pl.when(blank).then(pl.lit(f"必填项「{column.header}」为空")).otherwise(problem)
            ).to_series()
        blocking = column.required or column.name in contract.key
        for messages, parts, suffix in (
            (problem, quarantine_parts if blocking else report_parts, "" if blocking else "（已置空）"),
            (note, report_parts, ""),
        ):
            found = messages.is_not_null()
            if not found.any():
                continue
            parts.append(
                lineage.filter(found).with_columns(
                    pl.lit(column.header).alias("column"),
                    raw.filter(found).alias("raw_value"),
                    (messages.filter(found) + suffix).alias("problem"),
                )
            )
    typed = pl.DataFrame(typed_columns).with_columns(raw_rows.select(IDX, FILE, FILE_SEQ, ROW, EXTRA))
    if typed.height == 0:
        typed = typed.with_columns(raw_rows.select(IDX, FILE, FILE_SEQ, ROW, EXTRA))
    row_check_issues = [check(typed, lineage) for check in _row_checks(contract)]
    quarantine_parts += row_check_issues
    issue_cols = [IDX, "file", "row", "column", "raw_value", "problem"]
    empty = pl.DataFrame(schema={IDX: pl.Int64} | ISSUE_SCHEMA)
    quarantine = pl.concat([empty] + [p.select(issue_cols) for p in quarantine_parts], how="vertical")
    reports = pl.concat([empty] + [p.select(issue_cols) for p in report_parts], how="vertical")
    return typed, quarantine, reports


def _normalised_columns(
    contract: Contract, raw_rows: pl.DataFrame, delivery_date: date, known_counties: frozenset[str] | None
) -> Iterator[tuple[Column, pl.DataFrame]]:
    """(column, ``normalize_column`` result) for every column of the contract, in the contract's order."""

    def normalised(column: Column) -> tuple[Column, pl.DataFrame]:
        return column, normalize_column(raw_rows.get_column(column.name), column, delivery_date, known_counties)

    threads = min(available_cores(), len(contract.columns))
    if raw_rows.height < PARALLEL_ROWS or threads < 2:
        yield from map(normalised, contract.columns)
        return
    with ThreadPoolExecutor(threads) as pool:
        yield from pool.map(normalised, contract.columns)


def _row_checks(contract: Contract):
    return [ROW_CHECKS[name] for name in contract.row_checks if name in ROW_CHECKS]


def _claim_signs(typed: pl.DataFrame, lineage: pl.DataFrame) -> pl.DataFrame:
    """冲销 rows carry amounts ≤ 0 and point at the original; 正常 rows carry amounts ≥ 0."""
    amounts = [
        "total_cost",
        "basic_insurance_paid",
        "critical_insurance_paid",
        "medical_aid_paid",
        "personal_burden",
        "compliant_self_paid",
    ]
    reversal = pl.col("settlement_type") == "冲销"
    wrong_sign = pl.any_horizontal(
        [pl.when(reversal).then(pl.col(a) > 0).otherwise(pl.col(a) < 0).fill_null(False) for a in amounts]
    )
    no_original = reversal & pl.col("original_settlement_id").is_null()
    return (
        typed.select(
            IDX,
            pl.when(wrong_sign)
            .then(pl.lit("金额正负号与结算类型不符（冲销金额应≤0，正常结算应≥0）"))
            .when(no_original)
            .then(pl.lit("冲销结算缺少原结算流水号"))
            .alias("problem"),
        )
        .join(lineage, on=IDX)
        .filter(pl.col("problem").is_not_null())
        .with_columns(pl.lit("结算类型").alias("column"), pl.lit(None, pl.Utf8).alias("raw_value"))
    )


def _claim_personal_burden(rows: pl.DataFrame) -> pl.DataFrame:
    """个人负担 must equal total minus the three payments; a mismatch is reported to 医保 but the row is kept."""
    expected = (
        pl.col("total_cost")
        - pl.col("basic_insurance_paid")
        - pl.col("critical_insurance_paid").fill_null(0)
        - pl.col("medical_aid_paid").fill_null(0)
    )
    return rows.filter((pl.col("personal_burden") - expected).abs() > 1.0).select(
        pl.col(FILE).alias("file"),
        pl.col(ROW).alias("row"),
        pl.lit("个人负担(元)").alias("column"),
        pl.col("personal_burden").cast(pl.Utf8).alias("raw_value"),
        pl.format(
            "个人负担与「医疗总费用−基本医保−大病保险−医疗救助」（{} 元）不一致，请医保部门核对", expected.round(2)
        ).alias("problem"),
    )


# Row checks that quarantine the row, and row checks that only report it (contract `row_checks`).
ROW_CHECKS = {"claim_signs": _claim_signs}
ROW_REPORTS = {"claim_personal_burden": _claim_personal_burden}


def _resolve_keys(
    contract: Contract, parts: list[pl.DataFrame]
) -> tuple[pl.DataFrame, int, int, pl.DataFrame, pl.DataFrame]:
    """Identical rows count once; rows sharing a key but differing: the later file wins, then the later row.
    Returns (rows kept, duplicates, superseded, reports of the superseded rows, the superseded rows).

    ``parts`` (one typed frame per file) is emptied as it is used: the rows that share no key are filtered part by
    part, each part released once filtered, so that a province's roster is not held twice (the whole frame and its
    filtered copy together would be most of the ingest's peak memory)."""
    names = contract.names
    key = list(contract.key)
    by_key = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    # a 64-bit hash of each row's key, part by part: no frame of every key and no hash table of its strings. Equal
    # keys hash alike, so every row sharing its key is found; a row whose hash alone collides takes the exact path
    # below, which compares the keys themselves
    hashes = pl.concat([p.select(by_key.hash()).to_series() for p in parts])
    shares_key = hashes.is_duplicated()
    del hashes
    if not shares_key.any():  # the usual case: every key once, nothing to compare row by row
        good = pl.concat(parts, how="vertical")
        parts.clear()
        return good, 0, 0, pl.DataFrame(schema=ISSUE_SCHEMA), good.clear()
    clean_parts, shared_parts, offset = [], [], 0
    while parts:
        part = parts.pop(0)
        mask = shares_key.slice(offset, part.height)
        offset += part.height
        shared_parts.append(part.filter(mask))
        clean_parts.append(part.filter(~mask))
        del part
    clean = pl.concat(clean_parts, how="vertical")
    good = pl.concat(shared_parts, how="vertical")
    before = good.height
    good = good.sort([FILE_SEQ, ROW]).unique(subset=names, keep="first", maintain_order=True)
    duplicates = before - good.height
    ranked = good.sort([FILE_SEQ, ROW]).with_columns(
        pl.struct(FILE_SEQ, ROW).rank("ordinal", descending=True).over(key).alias("_rank")
    )
    losers = ranked.filter(pl.col("_rank") > 1)
    winners = ranked.filter(pl.col("_rank") == 1).drop("_rank")
    key_text = "、".join(contract.column(k).header for k in key)
    win_at = winners.select(key + [pl.col(FILE).alias("_win_file"), pl.col(ROW).alias("_win_row")])
    conflict_reports = losers.join(win_at, on=key, how="left", nulls_equal=True).select(
        pl.col(FILE).alias("file"),
        pl.col(ROW).alias("row"),
        pl.lit(key_text).alias("column"),
        pl.lit(None, pl.Utf8).alias("raw_value"),
        pl.format(
            "与 {} 第 {} 行键值（{}）相同但内容不同，以后者为准",
            pl.col("_win_file"),
            pl.col("_win_row"),
            pl.lit(key_text),
        ).alias("problem"),
    )
    return pl.concat([clean, winners], how="vertical"), duplicates, losers.height, conflict_reports, losers
