"""Asset checks of every ingest asset: the contract's Great Expectations suites, reconciliation and snapshot holds.

Blocking (ERROR) for structure, keys and reconciliation; WARN for drift against the previous delivery. A held
snapshot is an ERROR that does not block: operations.md wants the run to finish on the previous snapshot.
Great Expectations is imported inside the checks only (it takes seconds to import).
"""


import json
from datetime import date

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetChecksDefinition, MetadataValue, asset_check
from pipeline.resources import WarehouseResource

from assets.constants import DELIVERY_PARTITIONS, INGEST_KEYS
from config.policy import load_policy
from data_contracts import Contract, all_contracts
from ingest.warehouse import q


def _failures_md(result) -> str:
    if not result.failures:
        return "全部通过"
    lines = ["| 期望 | 列 | 说明 |", "|---|---|---|"]
    lines += [f"| {f.expectation} | {f.column or ''} | {f.message_zh} |" for f in result.failures]
    return "\n".join(lines)


def _delivery(con, feed: str, day: date) -> dict | None:
    rows = con.sql("SELECT * FROM deliveries WHERE feed = ? AND delivery_date = ?", params=[feed, day]).pl().to_dicts()
    return rows[0] if rows else None


def build_checks(contract: Contract) -> list[AssetChecksDefinition]:
    key = INGEST_KEYS[contract.feed]
    feed = contract.feed
    select = ", ".join(q(n) for n in contract.names)

    @asset_check(asset=key, name="contract_structure", blocking=True, partitions_def=DELIVERY_PARTITIONS,
                 description=f"{contract.title}：契约结构与键（Great Expectations）：列齐全、必填非空、代码取值合法、键唯一。")
    def structure(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        from data_contracts.gx_suites import structure_suite, validate

        day = date.fromisoformat(context.partition_key)
        with warehouse.get_connection() as con:
            rows = con.sql(f"SELECT {select} FROM {q(feed)} WHERE _delivery_date = ?", params=[day]).pl()
        if rows.height == 0:
            return AssetCheckResult(passed=True, metadata={"rows": 0, "note": "本日无新载入的行"})
        result = validate(rows, structure_suite(contract))
        return AssetCheckResult(passed=result.success, severity=AssetCheckSeverity.ERROR,
                                metadata={"rows": rows.height, "expectations": result.evaluated,
                                          "failures": MetadataValue.md(_failures_md(result))})

    @asset_check(asset=key, name="counts_reconcile", blocking=True, partitions_def=DELIVERY_PARTITIONS,
                 description="读取行数 = 载入 + 重复 + 被覆盖 + 隔离：没有一行被静默丢弃。")
    def reconcile(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        day = date.fromisoformat(context.partition_key)
        with warehouse.get_connection() as con:
            d = _delivery(con, feed, day)
        if d is None:
            return AssetCheckResult(passed=False, metadata={"note": "没有本日的交付记录"})
        accounted = d["rows_loaded"] + d["duplicates"] + d["resent"] + d["superseded"] + d["quarantined"]
        return AssetCheckResult(passed=accounted == d["rows_read"], metadata={
            "rows_read": d["rows_read"], "rows_loaded": d["rows_loaded"], "duplicates": d["duplicates"] + d["resent"],
            "superseded": d["superseded"], "quarantined": d["quarantined"]})

    @asset_check(asset=key, name="drift", blocking=False, partitions_def=DELIVERY_PARTITIONS,
                 description="与上一次交付相比，行数或空值率变化过大时预警（Great Expectations，WARN）。")
    def drift(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        from data_contracts.gx_suites import DeliveryProfile, drift_suite, validate

        day = date.fromisoformat(context.partition_key)
        policy = load_policy()["ingest"]
        with warehouse.get_connection() as con:
            previous = con.execute(
                "SELECT delivery_date, profile FROM deliveries WHERE feed = ? AND delivery_date < ? AND profile IS NOT NULL "
                "ORDER BY delivery_date DESC LIMIT 1", [feed, day]).fetchall()
            previous = previous[0] if previous else None
            current = con.sql(f"SELECT {select} FROM {q(feed)} WHERE _delivery_date = ?", params=[day]).pl()
            has_files = (_delivery(con, feed, day) or {}).get("profile") is not None
        if previous is None or not has_files:
            return AssetCheckResult(passed=True, severity=AssetCheckSeverity.WARN, metadata={"note": "无可比较的上一次交付或本日无交付"})
        suite = drift_suite(contract, DeliveryProfile.from_dict(json.loads(previous[1])),
                            row_ratio=tuple(policy["drift_row_ratio"]), null_rate_tolerance=policy["drift_null_rate_tolerance"])
        result = validate(current, suite)
        return AssetCheckResult(passed=result.success, severity=AssetCheckSeverity.WARN, metadata={
            "compared_with": previous[0].isoformat(), "rows": current.height, "failures": MetadataValue.md(_failures_md(result))})

    checks = [structure, reconcile, drift]
    if contract.kind == "snapshot":
        @asset_check(asset=key, name="snapshot_applied", blocking=False, partitions_def=DELIVERY_PARTITIONS,
                     description="快照骤减（或为空）时不采用，上一期继续有效，直到操作员确认（fangfanpin accept）。")
        def snapshot_applied(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
            day = date.fromisoformat(context.partition_key)
            with warehouse.get_connection() as con:
                d = _delivery(con, feed, day) or {"status": "no_delivery", "message": "没有本日的交付记录"}
            return AssetCheckResult(passed=d["status"] not in ("held", "partial"), severity=AssetCheckSeverity.ERROR,
                                    metadata={"status": d["status"], "message": d["message"] or ""})
        checks.append(snapshot_applied)
    return checks


ingest_checks = [check for contract in all_contracts() for check in build_checks(contract)]
