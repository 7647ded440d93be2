"""Asset checks of every ingest asset: the contract's Great Expectations suites, reconciliation, reports placed in
their rows' counties, refused files, snapshot holds and freshness.

Blocking (ERROR) for structure, keys, reconciliation and placed reports; WARN for drift against the previous delivery. A refused
file and a held snapshot are ERRORs that do not block: docs/operations.md wants the run to finish on what did load.
Freshness: WARN when the feed's newest usable delivery is older than its contract's cadence, ERROR past twice it,
so a department that stopped delivering shows on the asset graph.
Great Expectations is imported inside the checks only (it takes seconds to import).
"""

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib.metadata import version

import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    DagsterInstance,
    MetadataValue,
    multi_asset_check,
)

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, INGEST_KEYS
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.config.policy import Policy
from fangfanpin.core.privacy import mask_text
from fangfanpin.data_contracts import Contract, all_contracts
from fangfanpin.data_contracts.gx_suites import DeliveryProfile, drift_suite, structure_suite, validate, value_columns
from fangfanpin.ingest.freshness import FRESH, LATE, describe, feed_freshness
from fangfanpin.ingest.warehouse import q, reports_left_unplaced


def _failures_md(result) -> str:
    if not result.failures:
        return "全部通过"
    lines = ["| 期望 | 列 | 说明 |", "|---|---|---|"]
    lines += [f"| {f.expectation} | {f.column or ''} | {f.message_zh} |" for f in result.failures]
    return "\n".join(lines)


def _delivery(con, feed: str, day: date) -> dict | None:
    rows = con.sql("SELECT * FROM deliveries WHERE feed = ? AND delivery_date = ?", params=[feed, day]).pl().to_dicts()
    return rows[0] if rows else None


def _same_note(d: dict) -> str:
    return f"与上次交付（{d['same_as']}）相同，未重新解析：行与上次相同，未做漂移比较"


def _structure(contract: Contract, rows: Callable[[], pl.DataFrame], d: dict | None, before: dict | None) -> dict:
    """The structure suite on the day's rows, or, when they are a copy of an earlier delivery's (``same_as``) whose
    own check passed on the same files and suite (``before``: that evaluation's metadata), that result."""
    if before is not None:
        return dict(
            passed=True,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "rows": before["rows"],
                "expectations": before["expectations"],
                "same_as": f"与上次交付（{d['same_as']}）相同：行从那次复制，那次的契约检查已通过，未重新检查",
                **_suite_of(d),
            },
        )
    frame = rows()
    if frame.height == 0:
        return dict(passed=True, metadata={"rows": 0, "note": "本日无新载入的行"})
    result = validate(frame, structure_suite(contract))
    same = (
        {"same_as": f"与上次交付（{d['same_as']}）相同，行从上次复制，检查照常进行"} if (d or {}).get("same_as") else {}
    )
    return dict(
        passed=result.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows": frame.height,
            "expectations": result.evaluated,
            "failures": MetadataValue.md(_failures_md(result)),
            **same,
            **_suite_of(d),
        },
    )


def _suite_of(d: dict | None) -> dict:
    """What a structure result holds for a later copy of the same delivery to take it: the delivery's fingerprint
    (its files, the contract and the code reading them, ingest/unchanged.py) and the GX version."""
    if not (d or {}).get("fingerprint"):
        return {}
    return {"fingerprint": d["fingerprint"], "great_expectations": version("great_expectations")}


HISTORY_SEARCHED = 32  # evaluations looked through for the copied delivery's (one a date when runs go well)


def _structure_before(instance: DagsterInstance, key: AssetKey, d: dict | None) -> dict | None:
    """The metadata of the structure check of the delivery this one copied (``same_as``), when its newest evaluation
    passed on the same fingerprint and GX version; else None."""
    if not (d or {}).get("same_as") or not d.get("fingerprint"):
        return None
    history = instance.event_log_storage.get_asset_check_execution_history(
        AssetCheckKey(key, "contract_structure"), limit=HISTORY_SEARCHED
    )  # newest first
    record = next((r for r in history if r.partition == d["same_as"].isoformat()), None)
    evaluation = record.evaluation if record is not None else None
    if evaluation is None or not evaluation.passed:
        return None
    metadata = {name: value.value for name, value in evaluation.metadata.items()}
    if {k: metadata.get(k) for k in _suite_of(d)} != _suite_of(d) or "expectations" not in metadata:
        return None
    return metadata


def _reconcile(d: dict | None) -> dict:
    if d is None:
        return dict(passed=False, metadata={"note": "没有本日的交付记录"})
    accounted = d["rows_loaded"] + d["duplicates"] + d["resent"] + d["superseded"] + d["quarantined"]
    return dict(
        passed=accounted == d["rows_read"],
        metadata={
            "rows_read": d["rows_read"],
            "rows_loaded": d["rows_loaded"],
            "duplicates": d["duplicates"] + d["resent"],
            "superseded": d["superseded"],
            "quarantined": d["quarantined"],
        },
    )


def _drift(contract: Contract, rows: Callable[[], pl.DataFrame], d: dict | None, previous, policy: Policy) -> dict:
    if previous is None or (d or {}).get("profile") is None:
        return dict(
            passed=True, severity=AssetCheckSeverity.WARN, metadata={"note": "无可比较的上一次交付或本日无交付"}
        )
    ingest = policy["ingest"]
    low, high = ingest["drift_row_ratio"]
    if d.get("same_as") == previous[0] and low <= 1 <= high:  # the same rows as the delivery compared with
        return dict(
            passed=True,
            severity=AssetCheckSeverity.WARN,
            metadata={"compared_with": previous[0].isoformat(), "rows": d["rows_loaded"], "note": _same_note(d)},
        )
    suite = drift_suite(
        contract,
        DeliveryProfile.from_dict(json.loads(previous[1])),
        row_ratio=tuple(ingest["drift_row_ratio"]),
        null_rate_tolerance=ingest["drift_null_rate_tolerance"],
    )
    frame = rows()
    result = validate(frame, suite)
    return dict(
        passed=result.success,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "compared_with": previous[0].isoformat(),
            "rows": frame.height,
            "failures": MetadataValue.md(_failures_md(result)),
        },
    )


def _reports_placed(unplaced: int) -> dict:
    return dict(
        passed=unplaced == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "unplaced_reports": unplaced,
            "message": f"{unplaced} 条关于已载入行的提示没有归属到该行所在的县，县级工作清单看不到"
            if unplaced
            else "关于已载入行的提示都已归属到该行所在的县",
        },
    )


def _snapshot_applied(d: dict | None) -> dict:
    d = d or {"status": "no_delivery", "message": "没有本日的交付记录"}
    return dict(
        passed=d["status"] not in ("held", "partial"),
        severity=AssetCheckSeverity.ERROR,
        metadata={"status": d["status"], "message": d["message"] or ""},
    )


def _files_accepted(d: dict | None) -> dict:
    files = json.loads((d or {}).get("files") or "[]")
    refused = [f["name"] for f in files if f.get("rejected")]
    return dict(
        passed=not refused,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "files": len(files),
            "refused": mask_text("、".join(refused)) or "无",
            "message": "有文件被整个拒收，原因见数据质量问题" if refused else "本日交付的文件全部读取",
        },
    )


def _freshness(f: dict) -> dict:
    return dict(
        passed=f["status"] == FRESH,
        severity=AssetCheckSeverity.WARN if f["status"] == LATE else AssetCheckSeverity.ERROR,
        metadata={
            "newest_delivery": f["last_applied_delivery"].isoformat() if f["last_applied_delivery"] else "无",
            "days_since": f["age_days"] if f["age_days"] is not None else -1,
            "cadence_days": f["cadence_days"],
            "message": describe(f),
        },
    )


@cache
def checked_columns(contract: Contract) -> str:
    """The SELECT list of what the suites read: the values of the columns the structure suite checks values of, and
    of every other column only its null pattern (null where the value is, else 0), which is all the not-null checks
    of both suites look at. A province's roster so goes to GX without its names, addresses and phones. Built when a
    check first runs: building a suite imports GX, which loading the definitions must not."""
    values = value_columns(structure_suite(contract))
    return ", ".join(
        q(n) if n in values else f"CAST(CASE WHEN {q(n)} IS NULL THEN NULL ELSE 0 END AS TINYINT) AS {q(n)}"
        for n in contract.names
    )


def build_checks(contract: Contract) -> AssetChecksDefinition:
    """One step per feed runs all of its checks: they read the same rows and delivery record, and a step each cost
    the demo's daily run more in Dagster's per-step overhead than the checks themselves."""
    key = INGEST_KEYS[contract.feed]
    feed = contract.feed
    specs = [
        AssetCheckSpec(
            "contract_structure",
            asset=key,
            blocking=True,
            partitions_def=DELIVERY_PARTITIONS,
            description=f"{contract.title}：契约结构与键（Great Expectations）：列齐全、必填非空、代码取值合法、键唯一。"
            "快照与上次交付相同、那次检查已通过时沿用那次的结果。",
        ),
        AssetCheckSpec(
            "counts_reconcile",
            asset=key,
            blocking=True,
            partitions_def=DELIVERY_PARTITIONS,
            description="读取行数 = 载入 + 重复 + 被覆盖 + 隔离：没有一行被静默丢弃。",
        ),
        AssetCheckSpec(
            "reports_placed",
            asset=key,
            blocking=True,
            partitions_def=DELIVERY_PARTITIONS,
            description="关于已载入行的提示（如15位号码已转换）都归属到该行所在的县，进入该县的工作清单，不留在未归属清单。",
        ),
        AssetCheckSpec(
            "drift",
            asset=key,
            blocking=False,
            partitions_def=DELIVERY_PARTITIONS,
            description="与上一次交付相比，行数或空值率变化过大时预警（Great Expectations，WARN）。",
        ),
    ]
    specs += [
        AssetCheckSpec(
            "files_accepted",
            asset=key,
            blocking=False,
            partitions_def=DELIVERY_PARTITIONS,
            description="本日交付的文件都被读取；有文件被整个拒收（加密、表头缺必填列、超过上限等）时为错误（ERROR）。",
        ),
        AssetCheckSpec(
            "freshness",
            asset=key,
            blocking=False,
            partitions_def=DELIVERY_PARTITIONS,
            description=f"时效：约定每 {contract.cadence_days} 天交付一次；最近一次有效交付超过该天数为警告（WARN），"
            "超过两倍为错误（ERROR）。",
        ),
    ]
    if contract.kind == "snapshot":  # a held snapshot is an ERROR that does not block (docs/operations.md)
        specs.append(
            AssetCheckSpec(
                "snapshot_applied",
                asset=key,
                blocking=False,
                partitions_def=DELIVERY_PARTITIONS,
                description="快照骤减（或为空）时不采用，上一期继续有效，直到操作员确认（fangfanpin accept）。",
            )
        )

    @multi_asset_check(
        specs=specs,
        name=f"ingest__{feed}_checks",
        description=f"{contract.title}：契约结构、行数核对、漂移、文件拒收、时效"
        + ("、快照采用" if contract.kind == "snapshot" else ""),
    )
    def checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings):
        day = date.fromisoformat(context.partition_key)
        with warehouse.get_connection() as con:
            # the day's rows, read only for a suite that runs (not for a copy whose checks passed before)
            rows = cache(
                lambda: con.sql(
                    f"SELECT {checked_columns(contract)} FROM {q(feed + '_delivery')}(?::DATE)", params=[day]
                ).pl()
            )
            d = _delivery(con, feed, day)
            previous = con.execute(
                "SELECT delivery_date, profile FROM deliveries WHERE feed = ? AND delivery_date < ? AND profile IS NOT NULL "
                "ORDER BY delivery_date DESC LIMIT 1",
                [feed, day],
            ).fetchall()
            (fresh,) = feed_freshness(con, day, [feed])
            results = {
                "contract_structure": _structure(contract, rows, d, _structure_before(context.instance, key, d)),
                "counts_reconcile": _reconcile(d),
                "reports_placed": _reports_placed(reports_left_unplaced(con, contract, day)),
                "drift": _drift(contract, rows, d, previous[0] if previous else None, settings.policy()),
                "files_accepted": _files_accepted(d),
                "freshness": _freshness(fresh),
            }
        if contract.kind == "snapshot":
            results["snapshot_applied"] = _snapshot_applied(d)
        for name, result in results.items():
            yield AssetCheckResult(asset_key=key, check_name=name, **result)

    return checks


ingest_checks = [build_checks(contract) for contract in all_contracts()]
